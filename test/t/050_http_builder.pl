# The query builder over real HTTP (issue 23 §2), multidb-web against two real clusters whose orders tables differ
# (backup lacks "discount" and has "ref" as text where production has an integer; "refunds" is production's only):
# GET /api/build/catalog (a table missing and where, a column whose types differ), POST /api/build/sql, POST
# /api/build in its three modes (fanout: each connection's rows, columns in the statement's order; totals: the
# combined rows; compare: the differences), the errors (a bad spec 400 with 22023 and the spec's member as
# "field", a column a database lacks 400 and a table 404 naming the database, a missing spec 400), a report saved
# from a spec and run, a second role that sees none of the first's and cannot use a connection it has no USAGE
# on, one call from bench/gateway_client.py's cookie sign-in; every answer valid against the OpenAPI document.
use strict;
use warnings;

use File::Basename qw(dirname);
use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $production = start_remote('production');
my $backup = start_remote('backup');
$production->safe_psql('postgres', q{
	CREATE TABLE orders (id int PRIMARY KEY, customer text, status text, total numeric(10,2), discount numeric(10,2),
	                     ref int, created_at date);
	INSERT INTO orders SELECT g, 'c' || (g % 5), (ARRAY['paid', 'open', 'refunded'])[1 + g % 3], g * 2.5, g % 4,
	                          g * 10, date '2026-01-01' + g * 3 FROM generate_series(1, 40) g;
	CREATE TABLE refunds (id int, order_id int);
	GRANT SELECT ON orders, refunds TO reader;});
$backup->safe_psql('postgres', q{
	CREATE TABLE orders (id int PRIMARY KEY, customer text, status text, total numeric(10,2), ref text,
	                     created_at date);
	INSERT INTO orders SELECT g, 'c' || (g % 5), (ARRAY['paid', 'open', 'refunded'])[1 + g % 3], g * 2.5,
	                          'r' || g, date '2026-01-01' + g * 3 FROM generate_series(1, 35) g;
	INSERT INTO orders VALUES (41, 'c9', 'paid', 99, 'r41', date '2026-05-01');
	UPDATE orders SET total = 1000 WHERE id = 10;
	GRANT SELECT ON orders TO reader;});

my $coordinator = start_coordinator();
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');
add_connection($coordinator, 'production', $production);
add_connection($coordinator, 'backup', $backup);
$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
	GRANT alice, bob TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
	GRANT USAGE ON FOREIGN SERVER production, backup TO alice;
	GRANT USAGE ON FOREIGN SERVER production TO bob;
	CREATE USER MAPPING FOR alice SERVER production OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER backup OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER production OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER backup OPTIONS (user 'reader', password 'secret');
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $conninfo = authenticator_conninfo($coordinator);
my $launched = launch_gateway(flags => [ '--database', $conninfo ]);
my ($gateway, $url, $port) = @$launched{qw(handle url port)};

# Every JSON answer, checked against the document at the end: [method, OpenAPI path, status, body].
my @answers;
sub call
{
	my ($who, $method, $path, $doc_path, $data) = @_;
	my @args = ('-u', $who, '-X', $method, '-H', 'Content-Type: application/json');
	push @args, '-d', $data if defined $data;
	my ($status, $body, $headers) = curl(@args, "$url$path");
	push @answers, [ lc $method, $doc_path, $status, $body ] if ref $body;
	return ($status, $body, $headers);
}
sub build { my ($who, $path, $spec) = @_; return call($who, 'POST', $path, $path, encode_json({ spec => $spec })) }
my $alice = 'alice:alice-pw';
my $bob = 'bob:bob-pw';
my ($status, $body);

# 1. The catalog of both (one named by its id): what each has, what one lacks and where, types that differ.
($status, $body) = call($alice, 'GET', '/api/build/catalog?connection=1&connection=backup', '/api/build/catalog');
is($status, 200, 'GET /api/build/catalog: 200') or diag explain $body;
is_deeply($body->{databases}, [ 'production', 'backup' ], '... of both databases (an id resolved to its name)');
my %tables = map { ("$_->{schema}.$_->{name}" => $_) } @{ $body->{tables} // [] };
is_deeply($tables{'public.refunds'}{missing_from}, ['backup'], '... refunds listed as missing from backup');
is_deeply($tables{'public.orders'}{missing_from}, [], '... orders on both');
my %columns = map { ($_->{name} => $_) } @{ $tables{'public.orders'}{columns} // [] };
ok($columns{ref}{type_differs}, '... ref flagged: its types differ');
is_deeply($columns{ref}{types}, { production => 'integer', backup => 'text' }, '... integer on production, text on backup');
ok(!$columns{total}{type_differs}, '... total not');
is_deeply($columns{discount}{missing_from}, ['backup'], '... discount missing from backup');
($status, $body) = call($alice, 'GET', '/api/build/catalog', '/api/build/catalog');
is($status, 400, 'the catalog of no connection: 400');
is($body->{error}{field}, 'connection', '... naming ?connection');

# 2. The SQL of a spec, nothing run.
my $totals = { connections => [ 'production', 'backup' ], table => 'orders', mode => 'totals', group_by => ['status'],
	summaries => [ { fn => 'count' }, { fn => 'sum', column => 'total', as => 'revenue' } ],
	sort => [ { column => 'status' } ] };
($status, $body) = build($alice, '/api/build/sql', $totals);
is($status, 200, 'POST /api/build/sql: 200') or diag explain $body;
is($body->{mode}, 'totals', '... the mode');
is_deeply([ map { $_->{database} } @{ $body->{queries} } ], [ 'production', 'backup' ], '... a statement per database');
like($body->{queries}[0]{sql}, qr/FROM "public"\."orders"/, '... of the table, quoted');
ok($body->{combine}, '... and the combine step');
is_deeply($body->{columns}, [ 'status', 'count', 'revenue' ], '... the answer\'s columns in order');
ok($body->{description}, '... a description');

# 3. Fanout: each connection's rows, in the statement's column order (not the jsonb key order).
my $paid = { connections => [ 'production', 'backup' ], table => 'orders', columns => [ 'total', 'id', 'status' ],
	filter => { column => 'status', op => '=', value => 'paid' } };
($status, $body) = build($alice, '/api/build', $paid);
is($status, 200, 'POST /api/build, fanout: 200') or diag explain $body;
is($body->{mode}, 'fanout', '... mode fanout');
is($body->{plan}{mode}, 'fanout', '... with its plan');
is_deeply([ map { "$_->{connection_name} $_->{row_count}" } @{ $body->{database_results} } ],
	[ 'production 13', 'backup 12' ], '... two connection results, their paid orders');
is_deeply([ map { $_->{name} } @{ $body->{database_results}[1]{columns} } ], [ 'total', 'id', 'status' ],
	'... columns in the statement\'s order');
is(scalar(grep { $_->{status} ne 'paid' } map { @{ $_->{rows} } } @{ $body->{database_results} }), 0, '... only paid rows');
is($body->{database_results}[0]{sql}, $body->{plan}{queries}[0]{sql}, '... each with its SQL');
is($body->{question}, $body->{plan}{description}, '... the question: the spec\'s description');
ok(!defined $body->{combined}, '... no combined result');

# 4. Totals: the combined rows; each database's SQL and row count, no rows.
($status, $body) = build($alice, '/api/build', $totals);
is($status, 200, 'POST /api/build, totals: 200') or diag explain $body;
is_deeply([ map { "$_->{status} $_->{count}" } @{ $body->{combined}{rows} } ], [ 'open 26', 'paid 25', 'refunded 25' ],
	'... the combined counts per status across both');
is_deeply([ map { $_->{name} } @{ $body->{combined}{columns} } ], [ 'status', 'count', 'revenue' ],
	'... its columns in order');
is_deeply([ map { "$_->{connection_name} $_->{row_count} " . scalar @{ $_->{rows} } } @{ $body->{database_results} } ],
	[ 'production 3 0', 'backup 3 0' ], '... each database: its row count, its rows left out');
ok($body->{database_results}[0]{sql} && $body->{combined}{sql}, '... and each SQL');

# 5. Compare: as POST /api/compare answers.
my $compare = { table => 'orders', columns => [ 'id', 'customer', 'total' ], mode => 'compare',
	compare => { a => 'production', b => 'backup', key => ['id'] } };
($status, $body) = build($alice, '/api/build', $compare);
is($status, 200, 'POST /api/build, compare: 200') or diag explain $body;
is($body->{mode}, 'compare', '... mode compare');
is("$body->{a} $body->{b}", 'production backup', '... a and b');
is_deeply([ map { "$_->{status} $_->{key}{id}" } sort { $a->{key}{id} <=> $b->{key}{id} } @{ $body->{differences} } ],
	[ 'different 10', (map { "only_in_a $_" } 36 .. 40), 'only_in_b 41' ], '... the rows that differ');
is($body->{count}, 7, '... counted');

# 6. Errors: a bad spec names its member; what a database lacks names the database; no spec.
($status, $body) = build($alice, '/api/build', { connections => ['production'], table => 'orders',
	summaries => [ { fn => 'median', column => 'total' } ] });
is($status, 400, 'a spec with an unknown summary: 400');
is($body->{error}{sqlstate}, '22023', '... 22023');
is($body->{error}{field}, 'summaries[0].fn', '... the field: the spec\'s member at fault');
like($body->{error}{message}, qr/^invalid query spec: summaries\[0\]\.fn: /, '... the message as the coordinator said it');
($status, $body) = build($alice, '/api/build/sql', { connections => [ 'production', 'backup' ], table => 'orders',
	filter => { column => 'total', op => 'like', value => '1%' } });
is($status, 400, 'like on a numeric column: 400');
like($body->{error}{field}, qr/^filter/, '... naming the filter');
($status, $body) = build($alice, '/api/build', { connections => [ 'production', 'backup' ], table => 'orders',
	columns => [ 'id', 'discount' ] });
is($status, 400, 'a column backup lacks: 400 (42703)');
is($body->{error}{sqlstate}, '42703', '... 42703');
is($body->{error}{database}, 'backup', '... naming the database');
like($body->{error}{hint}, qr/spec_catalog/, '... with the HINT');
($status, $body) = build($alice, '/api/build', { connections => [ 'production', 'backup' ], table => 'refunds' });
is($status, 404, 'a table backup lacks: 404 (42P01)');
is($body->{error}{database}, 'backup', '... naming the database');
($status, $body) = call($alice, 'POST', '/api/build', '/api/build', '{"spec": "SELECT 1"}');
is($status, 400, 'a spec that is no object: 400');
is($body->{error}{field}, 'spec', '... naming spec');
($status, $body) = call($alice, 'POST', '/api/build/sql', '/api/build/sql', '{}');
is($status, 400, 'no spec: 400');
is($body->{error}{field}, 'spec', '... naming spec');

# 7. A report of a spec: saved, listed with its spec, run.
my $report_spec = { connections => [ 'production', 'backup' ], table => 'orders', columns => [ 'id', 'total' ],
	filter => { column => 'id', op => '<=', value => 3 } };
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports', encode_json({ name => 'first_orders', spec => $report_spec }));
is($status, 201, 'POST /api/reports {name, spec}: 201') or diag explain $body;
is($body->{spec}{table}{name}, 'orders', '... the report carries its spec (canonical)') or diag explain $body;
is_deeply($body->{connections}, [ 'production', 'backup' ], '... its connections');
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports', encode_json({ name => 'bad',
	spec => { connections => ['production'], table => 'orders', limit => 0 } }));
is($status, 400, 'a report of a bad spec: 400');
is($body->{error}{field}, 'limit', '... naming the member');
($status, $body) = call($alice, 'GET', '/api/reports', '/api/reports');
is_deeply([ map { $_->{name} . ' ' . (defined $_->{spec} ? 'spec' : 'none') } @$body ], ['first_orders spec'],
	'GET /api/reports: the report, with its spec');
($status, $body) = call($alice, 'POST', '/api/reports/first_orders/runs', '/api/reports/{name}/runs', '{}');
is($status, 201, 'POST /api/reports/{name}/runs: 201');
is($body->{status}, 'ok', '... the run ok');
is_deeply([ sort map { "$_->{database} $_->{row}{id}" } @{ $body->{rows} } ],
	[ 'backup 1', 'backup 2', 'backup 3', 'production 1', 'production 2', 'production 3' ], '... its rows');

# 8. Another role: none of alice's reports, and no connection it has no USAGE on.
($status, $body) = call($bob, 'GET', '/api/reports', '/api/reports');
is_deeply($body, [], "bob's GET /api/reports: none of alice's");
($status, $body) = call($bob, 'POST', '/api/reports/first_orders/runs', '/api/reports/{name}/runs', '{}');
is($status, 404, "bob running alice's report: 404");
($status, $body) = build($bob, '/api/build', $paid);
is($status, 403, 'bob building on backup (no USAGE): 403');
is($body->{error}{sqlstate}, '42501', '... 42501');
($status, $body) = call($bob, 'GET', '/api/build/catalog?connection=backup', '/api/build/catalog');
is($status, 403, "bob's catalog of backup: 403");
($status, $body) = build($bob, '/api/build', { %$paid, connections => ['production'] });
is_deeply([ map { "$_->{connection_name} $_->{row_count}" } @{ $body->{database_results} } ], ['production 13'],
	'... production, which he may use, answers him');

# 9. A program's call: bench/gateway_client.py signs in with the cookie, then builds.
my $client_dir = dirname(__FILE__) . '/../../bench';
my ($py_out, $py_err) = ('', '');
IPC::Run::run([ 'python3', '-c', <<'PY', $client_dir, $url, encode_json({ spec => $paid }) ], '>', \$py_out, '2>', \$py_err);
import json, sys
sys.path.insert(0, sys.argv[1])
import gateway_client
auth = gateway_client.sign_in(sys.argv[2], "alice", "alice-pw")
conn = gateway_client.connect(sys.argv[2])
conn.request("POST", "/api/build/sql", body=sys.argv[3], headers={"Content-Type": "application/json", **auth})
response = conn.getresponse()
answer = json.loads(response.read())
print(response.status, " ".join(q["database"] for q in answer["queries"]))
PY
is($py_out, "200 production backup\n", 'bench/gateway_client.py: signed in with the cookie, POST /api/build/sql answers')
  or diag $py_err;

# 10. Every answer against the document.
($status, my $doc) = curl("$url/api/openapi.json");
my ($checked, $check_err, @invalid) = check_answers($doc, \@answers);
is($check_err, '', 'the schema check ran');
cmp_ok($checked // 0, '>=', 20, "... on $checked real answers");
is_deeply(\@invalid, [], '... all valid against the document');

$gateway->kill_kill;
done_testing();
