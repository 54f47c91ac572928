# Twenty tenant databases as one connection group: fan-out, typed rows and a session over '@tenants'.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $server = start_remote('tenants', conf => "max_connections = 60\n");
my @tenants = map { sprintf('tenant_%02d', $_) } 1 .. 20;
# One psql makes them all (\c into each); file copies of template1 (the default strategy writes each database's
# every page to the WAL). The connections are registered without a trial connection each: the first fan-out
# below reaches every tenant and checks its answer.
$server->safe_psql('postgres', join '', map {
	"CREATE DATABASE $tenants[$_ - 1] STRATEGY FILE_COPY;\n\\c $tenants[$_ - 1]\n"
	  . "CREATE TABLE orders (id int PRIMARY KEY, total numeric);\n"
	  . "INSERT INTO orders SELECT g, g FROM generate_series(1, $_) g; GRANT SELECT ON orders TO reader;\n"
} 1 .. 20);
my $coordinator = start_coordinator();
$coordinator->safe_psql('postgres', join("\n",
	(map { "SELECT multidb.add_connection('$_', 'host=127.0.0.1 port=" . $server->port
		  . " dbname=$_ user=reader password=secret', validate => false);" } @tenants),
	"SELECT multidb.create_group('tenants', ARRAY[" . join(',', map {"'$_'"} @tenants) . "]);"));

my $expected = join "\n", map { "$tenants[$_ - 1]|$_" } 1 .. 20;
is($coordinator->safe_psql('postgres',
	"SELECT source_db, row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM orders', ARRAY['\@tenants'])"),
	$expected, 'fanout over @tenants: twenty databases, tagged, in group order');
is($coordinator->safe_psql('postgres',
	"SELECT source_db, n FROM multidb.fanout_rows('SELECT count(*) FROM orders', ARRAY['\@tenants']) AS t(source_db text, n int)"),
	$expected, 'fanout_rows too');
is($coordinator->safe_psql('postgres',
	"SET multidb.max_workers = 4; SELECT count(*), sum((row_data->>'n')::int) FROM multidb.fanout('SELECT count(*) AS n FROM orders', ARRAY['\@tenants'])"),
	'20|210', 'with four workers at a time the others queue, and all answer');

my $llm = MultidbLlm->new(rules => [ { match => 'busiest tenant',
	reply => encode_json({ queries => [ map { { database => $_, sql => 'SELECT count(*) AS orders FROM orders' } } @tenants ],
		explanation => 'orders per tenant' }) } ]);
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . "CREATE USER MAPPING FOR PUBLIC SERVER llm");
my $session = $coordinator->safe_psql('postgres', "SELECT multidb.create_session('tenants', ARRAY['\@tenants'])");
is($coordinator->safe_psql('postgres',
	"SELECT source_db FROM multidb.ask('Which is the busiest tenant?', '$session') ORDER BY (row_data->>'orders')::int DESC LIMIT 1"),
	'tenant_20', 'a session over @tenants asks all twenty');
my ($request) = $llm->requests;
my $prompt = join "\n", map { $_->{content} } @{ $request->{body}{messages} };
is(scalar(() = $prompt =~ /table public\.orders/g), 1, 'the prompt shows the tenants\' one schema once');
like($prompt, qr/databases tenant_01 \x{2026} tenant_20 \(20; group \@tenants\) share this schema:\ntable public\.orders( \(about [^)]* rows each\))?\n/,
	'... under the tenants\' names written compactly, with their count and their group');
like($prompt, qr/the group \@tenants \(tenant_01 \x{2026} tenant_20, 20 databases\)/, 'the rules list the group, not twenty names');
like($prompt, qr/\{"databases": \[\.\.\.\], "sql": "<one SELECT>"\} runs that statement on each of them/, '... and say a plan may name a set');

# ---- answers that need several databases at once: the combine step ----------------------------------------

sub union_of
{
	my ($select) = @_;    # '%s' stands for the tenant
	return join ' UNION ALL ', map { (my $one = $select) =~ s/%s/$_/g; $one } @tenants;
}
my @per_tenant = map { { database => $_, sql => 'SELECT count(*) AS orders, sum(total) AS revenue FROM orders' } } @tenants;
my %plans = (
	'Which tenant has the most orders?' => {
		queries => \@per_tenant,
		combine => 'SELECT tenant, orders FROM (' . union_of(q{SELECT '%s' AS tenant, orders FROM %s}) . ') t ORDER BY orders DESC, tenant LIMIT 3',
		explanation => 'orders per tenant, ranked' },
	'Revenue across all tenants' => {
		queries => \@per_tenant,
		combine => 'SELECT sum(revenue) AS revenue, sum(orders) AS orders, pg_typeof(sum(revenue))::text AS type FROM ('
		  . union_of(q{SELECT revenue, orders FROM %s}) . ') t' },
	'Orders in tenant_03 missing from tenant_02' => {
		queries => [ map { { database => $_, sql => 'SELECT id, total FROM orders' } } qw(tenant_02 tenant_03) ],
		combine => 'WITH missing AS (SELECT id FROM tenant_03 EXCEPT SELECT id FROM tenant_02) '
		  . 'SELECT m.id, t.total FROM missing m JOIN tenant_03 t USING (id) ORDER BY id' },
	'Empty result combined' => {
		queries => [ { database => 'tenant_01', sql => 'SELECT id, now() AS at FROM orders WHERE false' } ],
		combine => 'SELECT count(*) AS n, max(at) IS NULL AS no_time FROM tenant_01' },
	'Revenue, first try' => {
		queries => \@per_tenant,
		combine => 'SELECT sum(revnue) AS revenue FROM (' . union_of(q{SELECT * FROM %s}) . ') t' },
);
my @rules = ({ match => 'combine step failed', after_error => 'column "revnue" does not exist',
		reply => encode_json({ queries => \@per_tenant,
			combine => 'SELECT sum(revenue) AS revenue FROM (' . union_of(q{SELECT * FROM %s}) . ') t' }) });
push @rules, map { { match => $_, reply => encode_json($plans{$_}) } } sort keys %plans;
$llm->set_script(rules => \@rules);

sub ask
{
	my ($question) = @_;
	return $coordinator->safe_psql('postgres', "SELECT source_db, row_data FROM multidb.ask('$question', '$session')");
}
is(ask('Which tenant has the most orders?'),
	qq{combined|{"orders": 20, "tenant": "tenant_20"}\ncombined|{"orders": 19, "tenant": "tenant_19"}\ncombined|{"orders": 18, "tenant": "tenant_18"}},
	'combine ranks the twenty tenants: only its rows come back, tagged combined');
is(ask('Revenue across all tenants'), qq{combined|{"type": "numeric", "orders": 210, "revenue": 1540}},
	'combine totals over all tenants, each result typed as its remote columns (numeric stays numeric)');
is(ask('Orders in tenant_03 missing from tenant_02'), qq{combined|{"id": 3, "total": 3}},
	'combine finds the rows of one database missing from another, with its own WITH query');
is(ask('Empty result combined'), qq{combined|{"n": 0, "no_time": true}}, 'an empty result is still a table with its columns');
is($coordinator->safe_psql('postgres',
	"SELECT databases_used::text, row_counts->>'combined', row_counts->>'tenant_20' FROM multidb.query_history "
	  . "WHERE question = 'Which tenant has the most orders?'"),
	'{' . join(',', @tenants, 'combined') . '}|3|1', 'history shows the databases, the combine step and the row counts');
is($coordinator->safe_psql('postgres',
	"SELECT source_db, sql LIKE 'SELECT tenant, orders FROM%' FROM multidb.plan('Which tenant has the most orders?', '$session') "
	  . "WHERE source_db IN ('tenant_01', 'combined')"),
	"tenant_01|f\ncombined|t", 'plan() shows the combine step last, as source_db combined');

# A combine step with a mistake goes back to the LLM with the tables it had; the results stand.
my $requests_before = () = $llm->requests;
is(ask('Revenue, first try'), qq{combined|{"revenue": 1540}}, 'a combine error is repaired by the LLM');
my @repair = ($llm->requests)[ $requests_before .. $requests_before + 1 ];
is(scalar(grep { defined } @repair), 2, 'two LLM calls: the plan and its repair');
like($repair[1]{body}{messages}[-1]{content}, qr/column "revnue" does not exist.*tenant_01 \(orders bigint, revenue numeric\)/s,
	'the repair prompt names the error and the tables with their columns');
is($coordinator->safe_psql('postgres',
	"SELECT jsonb_array_length(attempts), attempts->0->'failures'->0->>'database', jsonb_array_length(attempts->1->'failures') "
	  . "FROM multidb.query_history WHERE question = 'Revenue, first try'"),
	'2|combined|0', 'history keeps both attempts');

# A database's statement that fails under a combine step is repaired alone: the LLM's repair names only that
# database, the combine step and the other results stand.
my @with_typo = map { { database => $_, sql => ($_ eq 'tenant_02' ? 'SELECT count(*) AS orders FROM orderz' : 'SELECT count(*) AS orders FROM orders') } } @tenants;
$llm->set_script(rules => [
	{ match => 'Some statements failed', after_error => 'relation "orderz" does not exist',
	  reply => encode_json({ queries => [ { database => 'tenant_02', sql => 'SELECT count(*) AS orders FROM orders' } ] }) },
	{ match => 'Total orders, with a typo', reply => encode_json({ queries => \@with_typo,
	  combine => 'SELECT sum(orders) AS orders FROM (' . union_of(q{SELECT orders FROM %s}) . ') t' }) } ]);
is(ask('Total orders, with a typo'), qq{combined|{"orders": 210}}, 'a failed statement under a combine step is repaired, and the sum is whole');
is($coordinator->safe_psql('postgres',
	"SELECT jsonb_array_length(attempts), attempts->0->'failures'->0->>'database', jsonb_array_length(plan->'queries'), plan ? 'combine' "
	  . "FROM multidb.query_history WHERE question = 'Total orders, with a typo'"),
	'2|tenant_02|20|t', 'history: the failed attempt, and the whole plan as it finally ran');

my ($ret, $out, $err);

# The combine step reads only the databases' results: every other relation, schema or function is refused.
my %attacks = (
	'a local table'           => 'SELECT * FROM multidb.chat_sessions',
	'an unqualified table'    => 'SELECT * FROM pg_authid',
	'a temporary table'       => 'SELECT * FROM pg_temp.tenant_01',
	'a CTE used before it'    => 'WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a',
	'a CTE out of scope'      => 'SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x',
	'a function elsewhere'    => 'SELECT multidb.fanout(\'SELECT 1\', ARRAY[\'tenant_01\'])',
	'a denied function'       => 'SELECT pg_terminate_backend(pg_backend_pid()) FROM tenant_01',
	'a table read by xml'     => 'SELECT table_to_xml(\'multidb.chat_sessions\', true, false, \'\')',
	'a write'                 => 'WITH gone AS (DELETE FROM multidb.chat_sessions RETURNING 1) SELECT * FROM gone',
	'a user type'             => 'SELECT 1::public.mood FROM tenant_01',
	'an operator elsewhere'   => 'SELECT 1 OPERATOR(public.+) 1 FROM tenant_01',
	'two statements'          => 'SELECT 1 FROM tenant_01; DELETE FROM multidb.chat_sessions',
);
my @attack_rules = map { { match => "attack: $_", reply => encode_json({ queries => [ { database => 'tenant_01', sql => 'SELECT 1 AS one' } ],
	combine => $attacks{$_} }) } } sort keys %attacks;
$llm->set_script(rules => \@attack_rules);
my $sessions_before = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.chat_sessions');
for my $attack (sort keys %attacks)
{
	my ($ret, $out, $err) = $coordinator->psql('postgres', "SELECT * FROM multidb.ask('attack: $attack', '$session')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  42501: multidb refused the LLM's combine step/, "combine reading $attack is refused (42501)");
}
is($coordinator->safe_psql('postgres',
	"SELECT count(*) FROM multidb.query_history WHERE question LIKE 'attack: %' AND status = 'refused'"),
	scalar(keys %attacks), 'every refusal is in the history');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.chat_sessions'), $sessions_before, 'nothing was deleted');

# A slow combine step stops at statement_timeout like any statement, and leaves nothing behind. (It may not
# sleep: pg_sleep is no function on values. Ten billion rows of a cross join take minutes.)
$llm->set_script(rules => [ { match => 'slow combine', reply => encode_json({
	queries => [ { database => 'tenant_01', sql => 'SELECT 1 AS one' } ],
	combine => 'SELECT count(*) FROM tenant_01, generate_series(1, 100000) a, generate_series(1, 100000) b' }) } ]);
my $started = time;
($ret, $out, $err) = $coordinator->psql('postgres',
	"SET statement_timeout = '1s'; SELECT * FROM multidb.ask('slow combine', '$session')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/, 'statement_timeout stops a slow combine step (57014)');
ok(time - $started < 20, 'at once, not after the combine step\'s minutes');
is($coordinator->safe_psql('postgres', "SELECT status FROM multidb.query_history WHERE question = 'slow combine'"), 'cancelled',
	'and the ask is recorded as cancelled (0.8: stopped by statement_timeout)');

# A combine step needs every database's result: a failed one fails the ask, even with on_error = warn.
$server->safe_psql('tenant_07', 'REVOKE SELECT ON orders FROM reader');
$llm->set_script(rules => [ { match => 'Revenue across all tenants', reply => encode_json({ %{ $plans{'Revenue across all tenants'} } }) } ]);
($ret, $out, $err) = $coordinator->psql('postgres',
	"SET multidb.on_error = warn; SET multidb.max_repairs = 0; SELECT * FROM multidb.ask('Revenue across all tenants', '$session')");
like($err, qr/connection "tenant_07".*permission denied.*HINT:  A plan with a combine step needs every database's result/s,
	'a database failing under a combine step fails the ask, naming it, even with on_error = warn');
is($out, '', 'and returns no partial answer');
$server->safe_psql('tenant_07', 'GRANT SELECT ON orders TO reader');

# A saved report freezes the combine step; run_plan runs a stored plan without the LLM.
$llm->set_script(rules => [ map { { match => $_, reply => encode_json($plans{$_}) } } sort keys %plans ]);
$coordinator->safe_psql('postgres', "SELECT multidb.save_report('top tenants', 'Which tenant has the most orders?', '$session')");
is($coordinator->safe_psql('postgres', "SELECT plan ? 'combine', jsonb_array_length(plan->'queries') FROM multidb.reports WHERE name = 'top tenants'"),
	't|20', 'save_report freezes the per-tenant statements and the combine step');
$llm->set_script(rules => []);    # from now on, no plan from the LLM
$coordinator->safe_psql('postgres', "SELECT multidb.run_report('top tenants')");
is($coordinator->safe_psql('postgres',
	"SELECT status, source_db, row_data->>'tenant' FROM multidb.report_runs WHERE report = 'top tenants' ORDER BY id LIMIT 1"),
	'ok|combined|tenant_20', 'run_report runs the frozen combine step: its rows land tagged combined');
is($coordinator->safe_psql('postgres',
	"SELECT string_agg(f.row_data->>'id', ',') FROM multidb.query_history h, multidb.run_plan(h.plan) f "
	  . "WHERE h.question = 'Orders in tenant_03 missing from tenant_02'"),
	'3', 'run_plan runs a plan kept in the history, without the LLM');
($ret, $out, $err) = $coordinator->psql('postgres',
	q{SELECT * FROM multidb.run_plan('{"queries": [{"database": "tenant_01", "sql": "SELECT 1 AS x"}], "combine": "SELECT * FROM multidb.reports"}')});
like($err, qr/ERROR:  multidb refused the plan's combine step: the combine step reads multidb\.reports/, 'run_plan guards the combine step too');

ok(defined wait_until_clean($coordinator, [$server], 2), 'no worker and no remote session left');
done_testing();
