# Saved reports behind a view (0.9): a report's owner makes a view over multidb.report_runs (or multidb.reports)
# and grants it to a BI role; the BI role reads the owner's rows through the view, because each report owner has
# a policy of its own (TO the owner, on the owner's name written out) and a view reads its tables as its owner.
# Read directly, the tables still show the BI role none of anyone else's reports, and another owner's view shows
# only that owner's. The upgrade from 0.8 makes the policies for the owners already there; pg_restore's reload of
# the reports makes them again; a role with reports is dropped after DROP OWNED BY.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = start_remote('shop');
my $coordinator = start_coordinator();

# A role name that needs quoting both as an identifier and as a literal.
my $odd = q{o'hare "x"};
(my $odd_ident = $odd) =~ s/"/""/g;
$odd_ident = qq{"$odd_ident"};
(my $odd_literal = $odd) =~ s/'/''/g;
$odd_literal = "'$odd_literal'";

# set_up($database): the extension (at $version when given), connection a, owners alice, bob and $odd with a
# report each and a view over report_runs granted to bi, a role with nothing but USAGE on the views' schemas
# and SELECT on the views.
sub set_up
{
	my ($database, $version) = @_;
	$coordinator->safe_psql('postgres', "CREATE DATABASE $database") if $database ne 'postgres';
	$coordinator->safe_psql($database,
		'CREATE EXTENSION multidb' . ($version ? " VERSION '$version'" : '')) if $database ne 'postgres';
	add_connection($coordinator, 'a', $remote, in => $database);
	$coordinator->safe_psql($database, "GRANT CREATE ON DATABASE $database TO alice, bob, $odd_ident");
	for my $owner ('alice', 'bob', $odd_ident)
	{
		$coordinator->safe_psql($database, "GRANT USAGE ON FOREIGN SERVER a TO $owner;
			CREATE USER MAPPING FOR $owner SERVER a OPTIONS (user 'reader', password 'secret')");
	}
	$coordinator->safe_psql($database, q{
		SET ROLE alice;
		SELECT multidb.save_report_sql('alice_items', 'SELECT id FROM items WHERE id <= 3', '{a}');
		SELECT multidb.run_report('alice_items');
		CREATE SCHEMA alice_bi;
		CREATE VIEW alice_bi.runs AS SELECT report, source_db, (row_data->>'id')::int AS id FROM multidb.report_runs;
		CREATE VIEW alice_bi.reports AS SELECT name, owner FROM multidb.reports;
		GRANT USAGE ON SCHEMA alice_bi TO bi;
		GRANT SELECT ON alice_bi.runs, alice_bi.reports TO bi;
		SET ROLE bob;
		SELECT multidb.save_report_sql('bob_items', 'SELECT id FROM items WHERE id > 98', '{a}');
		SELECT multidb.run_report('bob_items');
		CREATE SCHEMA bob_bi;
		CREATE VIEW bob_bi.runs AS SELECT report, source_db, (row_data->>'id')::int AS id FROM multidb.report_runs;
		GRANT USAGE ON SCHEMA bob_bi TO bi;
		GRANT SELECT ON bob_bi.runs TO bi;});
	$coordinator->safe_psql($database, "SET ROLE $odd_ident;
		SELECT multidb.save_report_sql('odd_items', 'SELECT id FROM items WHERE id = 50', '{a}');
		SELECT multidb.run_report('odd_items');
		CREATE SCHEMA odd_bi;
		CREATE VIEW odd_bi.runs AS SELECT report, (row_data->>'id')::int AS id FROM multidb.report_runs;
		GRANT USAGE ON SCHEMA odd_bi TO bi;
		GRANT SELECT ON odd_bi.runs TO bi;");
	return;
}

sub as_bi
{
	my ($database, $sql) = @_;
	return $coordinator->safe_psql($database, $sql, extra_params => [ '-U', 'bi' ]);
}

$coordinator->safe_psql('postgres', "CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE $odd_ident LOGIN;
	CREATE ROLE bi LOGIN");

# 1. At 0.8, then ALTER EXTENSION multidb UPDATE: the BI role sees nothing through the owners' views before,
#    each owner's rows through that owner's view after.
set_up('upgraded', '0.8');
my $alice_rows = q{SELECT string_agg(report || ':' || id, ',' ORDER BY id) FROM alice_bi.runs};
is(as_bi('upgraded', $alice_rows), '', 'at 0.8 the BI role sees none of alice\'s runs through alice\'s view');
$coordinator->safe_psql('upgraded', 'ALTER EXTENSION multidb UPDATE');
is(as_bi('upgraded', $alice_rows), 'alice_items:1,alice_items:2,alice_items:3',
	'after the update the BI role reads alice\'s runs through the view alice granted it');
is(as_bi('upgraded', q{SELECT string_agg(report || ':' || id, ',' ORDER BY id) FROM bob_bi.runs}),
	'bob_items:99,bob_items:100', '... and bob\'s through bob\'s');
is(as_bi('upgraded', q{SELECT string_agg(report || ':' || id, ',') FROM odd_bi.runs}), 'odd_items:50',
	"... and those of a role named $odd through its own");
is(as_bi('upgraded', q{SELECT count(*) FROM multidb.report_runs}) . ' ' . as_bi('upgraded', q{SELECT count(*) FROM multidb.reports}),
	'0 0', '... while reading the tables directly it sees no one\'s runs or reports');

# 2. A new coordinator database at 0.9: save_report_sql makes the owner's policies as it saves.
set_up('postgres');
is($coordinator->safe_psql('postgres', q{
	SELECT string_agg(tablename || ' ' || policyname || ' ' || array_to_string(roles, ',') || ' ' || cmd, E'\n' ORDER BY tablename, policyname)
	  FROM pg_policies WHERE schemaname = 'multidb' AND policyname LIKE 'reports\_of\_%'}),
	join("\n", map { my $t = $_; map { "$t $_" } ('reports_of_alice alice SELECT', 'reports_of_bob bob SELECT',
		"reports_of_$odd $odd SELECT") } qw(report_runs reports)),
	'each report owner has a SELECT policy of its own on reports and on report_runs, TO that owner');
is(as_bi('postgres', $alice_rows), 'alice_items:1,alice_items:2,alice_items:3',
	'the BI role reads alice\'s runs through the view alice granted it');
is(as_bi('postgres', q{SELECT string_agg(name || '/' || owner, ',') FROM alice_bi.reports}), 'alice_items/alice',
	'... and alice\'s reports (only hers) through a view over multidb.reports');
is(as_bi('postgres', q{SELECT string_agg(report || ':' || id, ',' ORDER BY id) FROM bob_bi.runs}),
	'bob_items:99,bob_items:100', 'bob\'s view over the same table shows bob\'s runs, none of alice\'s');
is(as_bi('postgres', q{SELECT count(*) FROM multidb.report_runs}), '0',
	'the BI role reading multidb.report_runs directly sees no one\'s runs');
is(as_bi('postgres', q{SELECT count(*) FROM multidb.reports}), '0', '... nor reports in multidb.reports');
is($coordinator->safe_psql('postgres', q{SELECT string_agg(DISTINCT report, ',') FROM multidb.report_runs},
		extra_params => [ '-U', 'bob' ]), 'bob_items', 'bob reading report_runs directly sees only his own runs');
is($coordinator->safe_psql('postgres', q{SELECT string_agg(DISTINCT name, ',') FROM multidb.reports},
		extra_params => [ '-U', 'bob' ]), 'bob_items', '... and only his own reports');

# Saving more reports leaves one policy per owner and table.
$coordinator->safe_psql('postgres', q{SET ROLE alice;
	SELECT multidb.save_report_sql('alice_more', 'SELECT 1 AS id', '{a}'); SELECT multidb.run_report('alice_more')});
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_policies WHERE schemaname = 'multidb' AND 'alice' = ANY (roles)}),
	'2', 'a second report of alice\'s adds no policy');
is(as_bi('postgres', q{SELECT count(*) FROM alice_bi.runs}), '4', '... and its run shows through the view');

# The policy maker is not for anyone to call; and it makes nothing for a role that owns no report.
$coordinator->safe_psql('postgres', 'CREATE ROLE carol LOGIN');
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT multidb._report_owner_policies('carol')},
	extra_params => [ '-U', 'bi' ]);
like($stderr, qr/permission denied for function _report_owner_policies/, 'a role may not call the policy maker');
is($coordinator->safe_psql('postgres', q{SELECT multidb._report_owner_policies('carol')}), 'f',
	'... which makes no policy for a role that owns no report');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_policies WHERE schemaname = 'multidb' AND 'carol' = ANY (roles)}),
	'0', '... none');

# A report given to another owner (a superuser's UPDATE): the new owner's policies are made.
$coordinator->safe_psql('postgres', q{UPDATE multidb.reports SET owner = 'carol' WHERE name = 'alice_more'});
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_policies WHERE schemaname = 'multidb' AND 'carol' = ANY (roles)}),
	'2', 'a report given to another owner makes that owner\'s policies');

# 3. Dropping a report owner: DROP OWNED BY first (as for its user mappings), then DROP ROLE.
($ret, $stdout, $stderr) = $coordinator->psql('postgres', 'DROP ROLE bob');
like($stderr, qr/role "bob" cannot be dropped because some objects depend on it/, 'DROP ROLE of a report owner alone is refused');
$coordinator->safe_psql('upgraded', 'DROP OWNED BY bob CASCADE');
$coordinator->safe_psql('postgres', 'DROP OWNED BY bob CASCADE; DROP ROLE bob');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_policies WHERE policyname = 'reports_of_bob'}),
	'0', 'after DROP OWNED BY, DROP ROLE works and takes its policies');
is(as_bi('postgres', q{SELECT count(*) FROM alice_bi.runs}), '3', '... and alice\'s view still reads (alice_more is carol\'s now)');

done_testing();
