# multidb.compare over a million rows per side with work_mem = 64kB: the differences, and only those.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $a = start_remote('side_a');
my $b = start_remote('side_b');
for my $node ($a, $b)
{
	$node->safe_psql('postgres', 'CREATE TABLE facts AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 1000000) g;
		GRANT SELECT ON facts TO reader;');
}
$b->safe_psql('postgres', q{
	DELETE FROM facts WHERE id IN (10, 500000);
	UPDATE facts SET h = 'changed' WHERE id IN (7, 999999, 123456);
	INSERT INTO facts VALUES (1000001, 'new');
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'a', $a);
add_connection($coordinator, 'b', $b);

# One compare over the million rows (each takes seconds): its differences, a changed row's both versions, and
# afterwards, in the same session, the caller's peak resident memory.
my $result = $coordinator->safe_psql('postgres', q{
	SET work_mem = '64kB';
	SELECT status, key->>'id', coalesce(b_row->>'h', '') FROM multidb.compare('SELECT id, h FROM facts', 'a', 'b', ARRAY['id'])
	 ORDER BY (key->>'id')::int;
	SELECT 'VmHWM ' || (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1];});
my ($peak_kb) = $result =~ s/\nVmHWM (\d+)\z//s ? ($1) : ('not read');
my @rows = map { [ split /\|/, $_, -1 ] } split /\n/, $result;
is(join("\n", map { "$_->[0]|$_->[1]" } @rows),
	join("\n", 'different|7', 'only_in_a|10', 'different|123456', 'only_in_a|500000', 'different|999999', 'only_in_b|1000001'),
	'a million rows per side: exactly the six differences');
my ($seven) = grep { $_->[1] eq '7' } @rows;
is($seven ? $seven->[2] : undef, 'changed', 'with both versions of a different row');
# Neither side is held in memory: the caller's peak resident memory stays small.
cmp_ok($peak_kb, '<', 80_000, "the calling backend peaked at $peak_kb kB for 2 x 1,000,000 rows");

# A combine step over a million rows per side: the steps' results spill to temporary files, which are closed when
# the combine step is done (not left to the end of the transaction, which warns of each).
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{
	SET work_mem = '64kB';
	SELECT row_data->>'n' FROM multidb.run_plan('{"queries": [{"database": "a", "sql": "SELECT id, h FROM facts"},
	  {"database": "b", "sql": "SELECT id, h FROM facts"}], "combine": "SELECT count(*) AS n FROM (SELECT id, h FROM a EXCEPT SELECT id, h FROM b) x"}')});
is($stdout, '5', 'run_plan with a combine step over 2 x 1,000,000 rows: the five rows of a that b lacks or changed') or diag($stderr);
unlike($stderr, qr/temporary file leak/, '... and no temporary file left open');
done_testing();
