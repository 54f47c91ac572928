# Statements that would change the remote: every one refused before it leaves (the remote's statement log
# never sees it), and the remote data is unchanged afterwards — checked on the remote itself.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

# log_statement = all: anything that reached the remote is in its log.
my $remote = start_remote('target', conf => "log_statement = 'all'\n");
my $coordinator = start_coordinator();
add_connection($coordinator, 'target', $remote);
$remote->safe_psql('postgres', q{
	CREATE FUNCTION writes_behind_your_back() RETURNS int LANGUAGE sql
	  AS 'UPDATE items SET price = 0 RETURNING 1';
	GRANT EXECUTE ON FUNCTION writes_behind_your_back() TO reader;
	CREATE VIEW sneaky_view AS SELECT writes_behind_your_back() AS w;
	GRANT SELECT ON sneaky_view TO reader;
});

sub remote_state
{
	return $remote->safe_psql('postgres',
		"SELECT (SELECT md5(string_agg(id || ':' || name || ':' || price, ',' ORDER BY id)) FROM items), "
		  . "(SELECT count(*) FROM items), (SELECT last_value || '/' || is_called FROM counter), "
		  . "(SELECT count(*) FROM pg_class WHERE relname = 'stolen'), "
		  . "(SELECT count(*) FROM pg_largeobject_metadata)");
}
my $before = remote_state();

my @attacks = (
	'DELETE FROM items',
	'UPDATE items SET price = 0',
	"INSERT INTO items VALUES (1000, 'x', 1)",
	'TRUNCATE items',
	'DROP TABLE items',
	'GRANT ALL ON items TO PUBLIC',
	'CREATE TABLE stolen AS SELECT * FROM items',
	'SELECT * INTO stolen FROM items',
	'SELECT * FROM items FOR UPDATE',
	'WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone',
	'SELECT 1; DELETE FROM items',
	"SELECT nextval('counter')",
	"SELECT setval('counter', 42)",
	'SELECT pg_terminate_backend(pid) FROM pg_stat_activity',
	"SELECT pg_read_file('postgresql.conf')",
	"SELECT set_config('default_transaction_read_only', 'off', false)",
	"SELECT lo_import('/etc/hostname')",
	'SELECT pg_advisory_lock(1)',
	'COPY items TO STDOUT',
	"SELECT * FROM dblink('dbname=postgres', 'DELETE FROM items') AS t(x int)",
	"SELECT query_to_xml('DELETE FROM items', true, true, '')",
	'DELETE FROM items WHERE id IN (SELECT id FROM items)',
	'EXPLAIN ANALYZE DELETE FROM items',
	"DO \$\$ BEGIN DELETE FROM items; END \$\$",
	'SELEC * FRM items',
);

my $log_offset = -s $remote->logfile;
for my $attack (@attacks)
{
	(my $quoted = $attack) =~ s/'/''/g;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
		"SELECT * FROM multidb.fanout('$quoted', ARRAY['target'])",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($stderr, qr/ERROR:  (42501|42601): multidb refused the statement for connection "target"/,
		"refused: $attack");
}
is(remote_state(), $before, 'the remote data is unchanged after every refusal');
my $log = slurp_file($remote->logfile, $log_offset);
my @reached = grep { index($log, $_) >= 0 } @attacks;
is_deeply(\@reached, [], 'and none of those statements reached the remote');

# The second wall: a function no list of multidb's names, VOLATILE in the remote's own catalog, is refused
# before the statement is sent.
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.fanout('SELECT writes_behind_your_back()', ARRAY['target'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  42501: connection "target": the statement could call function public.writes_behind_your_back\(\), VOLATILE on this database/,
	'a volatile function of the remote is refused by its own catalog');
unlike(slurp_file($remote->logfile, $log_offset), qr/CURSOR FOR SELECT writes_behind_your_back/, 'and never sent');
# The third: what the statement cannot name (a view calls the function) runs in a READ ONLY transaction.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.fanout('SELECT * FROM sneaky_view', ARRAY['target'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  25006: connection "target": cannot execute UPDATE in a read-only transaction/,
	'a view whose function writes fails on the remote: read-only transaction');
is(remote_state(), $before, 'the remote data is still unchanged');

# Also through fanout_rows and with on_error = warn: a refusal is never downgraded to a warning.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.on_error = warn; SELECT * FROM multidb.fanout_rows('DELETE FROM items RETURNING id', ARRAY['target']) AS t(source_db text, id int)");
like($stderr, qr/ERROR:  multidb refused the statement/, 'warn mode does not soften a refusal');
is(remote_state(), $before, 'unchanged');

# What is allowed does run, and reads.
is($coordinator->safe_psql('postgres',
	"SELECT row_data->>'n' FROM multidb.fanout('WITH x AS (SELECT * FROM items) SELECT count(*) AS n FROM x', ARRAY['target'])"),
	'100', 'a read-only WITH query runs');
like(slurp_file($remote->logfile, $log_offset), qr/(statement|execute <unnamed>): (DECLARE multidb_rows NO SCROLL CURSOR FOR )?WITH x AS \(SELECT \* FROM items\)/,
	'and the remote log does record what reaches it (so the check above can fail)');
done_testing();
