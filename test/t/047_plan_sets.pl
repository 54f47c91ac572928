# A plan that names a set of databases (issue 21 §2): a group, "*" or a list written once, expanded to one
# statement per member; the combine step reads a set as one relation with source_db first; the errors of a
# plan that names what is not attached; history, the dry run and run_plan of a plan with sets.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

# Six tenant databases on two clusters (t01 … t03 on east, t04 … t06 on west) and hq on east. The migration that
# adds orders.status reached t01 … t04 only.
my $east = start_remote('east');
my $west = start_remote('west');
my @tenants = map { sprintf('t%02d', $_) } 1 .. 6;
my %orders = (t01 => 3, t02 => 5, t03 => 2, t04 => 9, t05 => 1, t06 => 4, hq => 7);
my $coordinator = start_coordinator();
for my $db (@tenants, 'hq')
{
	my $node = $db =~ /^t0[456]$/ ? $west : $east;
	my $status = $db =~ /^t0[1-4]$/ ? ", status text DEFAULT 'open'" : '';
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE TABLE orders (id int PRIMARY KEY, total numeric$status);
		INSERT INTO orders (id, total) SELECT g, g * 10 FROM generate_series(1, $orders{$db}) g;
		GRANT SELECT ON orders TO reader;");
	add_connection($coordinator, $db, $node, dbname => $db);
}
$coordinator->safe_psql('postgres',
	"SELECT multidb.create_group('tenants', ARRAY[" . join(',', map {"'$_'"} @tenants) . "]);"
	  . "SELECT multidb.create_group('eu', ARRAY['t01', 't02'])");

my $llm = MultidbLlm->new(rules => []);
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . "CREATE USER MAPPING FOR PUBLIC SERVER llm");

my $count = 'SELECT count(*) AS n FROM orders';
my %plans = (
	'Which tenant has the most orders?' => encode_json({
		queries => [ { databases => ['@tenants'], sql => $count } ],
		combine => 'SELECT source_db, n FROM tenants ORDER BY n DESC LIMIT 1', explanation => 'orders per tenant' }),
	'Orders everywhere' => encode_json({
		queries => [ { databases => ['*'], sql => $count } ],
		combine => q{SELECT count(*) AS databases, sum(n) AS orders, string_agg(source_db || ':' || n, ',') AS each FROM all_databases} }),
	'Largest order, in text' => "DATABASE: \@tenants\n```sql\nSELECT max(total) AS top FROM orders;\n```\n"
	  . "COMBINE: SELECT source_db, top FROM tenants ORDER BY top DESC LIMIT 1\nEXPLANATION: the largest order",
	'Orders in the eu' => encode_json({ queries => [ { databases => ['@eu'], sql => $count } ] }),
	'Tenant twice' => encode_json({ queries => [ { databases => ['@tenants'], sql => $count },
		{ database => 't02', sql => 'SELECT 1' } ] }),
	'Open orders per tenant' => encode_json({
		queries => [ { databases => ['@tenants'], sql => q{SELECT count(*) FILTER (WHERE status = 'open') AS open FROM orders} } ],
		combine => 'SELECT sum(open) AS open FROM tenants' }),
	'Every order' => encode_json({
		queries => [ { databases => ['@tenants'], sql => 'SELECT * FROM orders' } ],
		combine => 'SELECT count(*) AS orders FROM tenants' }),
);
my @rules = (
	# The statement fails where the migration did not reach: the repair names the set again, and only the two
	# failed databases take its statement.
	{ match => 'Some statements failed', after_error => 'column "status" does not exist',
	  reply => encode_json({ queries => [ { databases => ['@tenants'], sql => 'SELECT count(*) AS open FROM orders' } ] }) },
	# The members' columns disagree for the set's relation: the combine repair reads only what all have.
	{ match => 'combine step failed', after_error => 'the set relation tenants cannot hold the rows',
	  reply => encode_json({ queries => [ { databases => ['@tenants'], sql => 'SELECT id, total FROM orders' } ],
		combine => 'SELECT count(*) AS orders FROM tenants' }) },
);
push @rules, map { { match => $_, reply => $plans{$_} } } sort keys %plans;
$llm->set_script(rules => \@rules);

sub ask
{
	my ($question, $connections) = @_;
	return $coordinator->psql('postgres',
		"SELECT source_db, row_data FROM multidb.ask('$question', connections => ARRAY[$connections])");
}

my ($ret, $out, $err) = ask('Which tenant has the most orders?', q{'@tenants'});
is($out, 'combined|{"n": 9, "source_db": "t04"}', 'one statement for the whole group, and the combine step ranks it as one relation')
  or diag $err;
is($coordinator->safe_psql('postgres',
	"SELECT plan->'sets'->0->'databases', plan->'sets'->0->>'relation', plan->'sets'->0->'members', "
	  . "jsonb_array_length(plan->'queries'), plan->'queries'->3->>'database', plan->'queries'->3->>'sql' "
	  . "FROM multidb.query_history WHERE question = 'Which tenant has the most orders?'"),
	qq{["\@tenants"]|tenants|["t01", "t02", "t03", "t04", "t05", "t06"]|6|t04|$count},
	'history keeps the set as written, its members and relation, and the expansion');
is($coordinator->safe_psql('postgres',
	"SELECT (SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM jsonb_each_text(row_counts)), "
	  . "(SELECT count(*) FROM jsonb_object_keys(timings_ms)), databases_used::text "
	  . "FROM multidb.query_history WHERE question = 'Which tenant has the most orders?'"),
	'combined=1,t01=1,t02=1,t03=1,t04=1,t05=1,t06=1|7|{t01,t02,t03,t04,t05,t06,combined}',
	'row counts and timings stay per database');
is($coordinator->safe_psql('postgres',
	"SELECT source_db FROM multidb.plan('Which tenant has the most orders?', connections => ARRAY['\@tenants'])"),
	join("\n", @tenants, 'combined'), 'the dry run shows one row per database, then the combine step');
is($coordinator->safe_psql('postgres',
	"SELECT source_db, row_data FROM multidb.run_plan((SELECT plan FROM multidb.query_history "
	  . "WHERE question = 'Which tenant has the most orders?'))"),
	'combined|{"n": 9, "source_db": "t04"}', 'run_plan of the stored plan: the expansion runs and the set relation is there');

($ret, $out, $err) = ask('Orders everywhere', q{'hq', '@tenants'});
is($out, 'combined|{"each": "hq:7,t01:3,t02:5,t03:2,t04:9,t05:1,t06:4", "orders": 31, "databases": 7}',
	'"*" is every attached database, as all_databases, in the attached order') or diag $err;

($ret, $out, $err) = ask('Largest order, in text', q{'@tenants'});
is($out, 'combined|{"top": 90, "source_db": "t04"}', 'the plain form: DATABASE: @tenants') or diag $err;

($ret, $out, $err) = ask('Orders in the eu', q{'@tenants'});
isnt($ret, 0, 'a group the ask did not attach is not a set it may name');
like($err, qr/ERROR:  the plan names the set "\@eu", which is not an attached group; attached: t01, t02, t03, t04, t05, t06; attached groups: \@tenants \(6 databases\)/,
	'the error names the set and lists what is attached');
is($coordinator->safe_psql('postgres',
	"SELECT status, error LIKE '%not an attached group%' FROM multidb.query_history WHERE question = 'Orders in the eu'"),
	'error|t', 'and the history records it');
my ($state) = $coordinator->psql('postgres', q{DO $$ BEGIN PERFORM * FROM multidb.ask('Orders in the eu', connections => ARRAY['@tenants']);
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'state %', SQLSTATE; END $$}, stderr => \my $notice);
like($notice, qr/state 39000/, 'a bad plan: 39000');
($ret, $out, $err) = ask('Orders in the eu', q{'@eu'});
is($out, "t01|{\"n\": 3}\nt02|{\"n\": 5}", 'attached, the same group is a set');

($ret, $out, $err) = ask('Tenant twice', q{'@tenants'});
like($err, qr/the plan reaches database "t02" twice \(through the set \@tenants, and by name\)/,
	'a database the plan reaches twice is an error naming it');

# Repairs: a set's statement that fails on some members is repaired for those members only.
my $before = () = $llm->requests;
($ret, $out, $err) = ask('Open orders per tenant', q{'@tenants'});
is($out, 'combined|{"open": 24}', 'the members the migration missed are repaired, and the set relation holds all six')
  or diag $err;
my @asked = ($llm->requests)[ $before .. $before + 1 ];
like($asked[1]{body}{messages}[-1]{content}, qr/t05.*t06/s, 'the repair request names the failed members');
is($coordinator->safe_psql('postgres',
	"SELECT plan->'sets'->0->>'relation', plan->'queries'->0->>'sql' LIKE '%FILTER%', plan->'queries'->5->>'sql' "
	  . "FROM multidb.query_history WHERE question = 'Open orders per tenant'"),
	'tenants|t|SELECT count(*) AS open FROM orders', 'history: the set stands, the expansion shows what each database ran');

# Members whose columns differ cannot be one relation: a combine error the LLM repairs, naming column and databases.
$before = () = $llm->requests;
($ret, $out, $err) = ask('Every order', q{'@tenants'});
is($out, 'combined|{"orders": 24}', 'a set relation its members disagree on is repaired') or diag $err;
@asked = ($llm->requests)[ $before .. $before + 1 ];
like($asked[1]{body}{messages}[-1]{content},
	qr/42804 datatype_mismatch: the set relation tenants cannot hold the rows of its \x{2026} databases, whose columns differ: database t01 gives \x{2026} columns and database t05 \x{2026} \(column status is only on t01\)/,
	'the repair request names the column and the databases (numbers masked, as any value an error quotes)');
like($asked[1]{body}{messages}[-1]{content},
	qr/The tables it could read: tenants, the set relation of 6 databases \(t01 \x{2026} t06\), which cannot hold their rows: .*, t01 \(id integer, total numeric, status text\)/,
	'the tables it could read: the set written once with its count, then each database');
# A set relation that holds its members: written once, its members not listed one by one.
$llm->set_script(rules => [
	{ match => 'combine step failed', after_error => 'column "nn" does not exist',
	  reply => encode_json({ queries => [ { databases => ['@tenants'], sql => $count } ], combine => 'SELECT max(n) AS n FROM tenants' }) },
	{ match => 'Most orders, misspelt', reply => encode_json({ queries => [ { databases => ['@tenants'], sql => $count } ],
		combine => 'SELECT max(nn) AS n FROM tenants' }) } ]);
$before = () = $llm->requests;
($ret, $out, $err) = ask('Most orders, misspelt', q{'@tenants'});
is($out, 'combined|{"n": 9}', 'a combine step over a set is repaired') or diag $err;
@asked = ($llm->requests)[ $before .. $before + 1 ];
like($asked[1]{body}{messages}[-1]{content},
	qr/The tables it could read: tenants \(source_db text, n bigint\): the rows of 6 databases \(t01 \x{2026} t06\), each also a table of its own named after its database\n/,
	'the tables it could read: the set relation with its columns and count, and no list of its members\' tables');

done_testing();
