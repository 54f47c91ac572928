# multidb-web's other endpoints and its own document, over real HTTP against real clusters: POST /api/query
# (an ask on multidb.default_connections), POST /api/sql (SQL a user wrote, by multidb.fanout), POST /api/plan,
# GET /api/history, a message's results whole and in pages, GET /api/connections/health (reachable, down, no user
# mapping, no USAGE); their errors (400 naming the field, 404 for what another role owns or does not exist, 422
# refused by the guard, 502 a remote's error); the query builder's routes answering; the OpenAPI document at
# /api/openapi.json listing every route the server has (--print-routes) and no other, real answers valid against
# its schemas (python3-jsonschema); the
# API page at /api/docs with swagger-ui's files served from disk; the web UI at / and /ui/ (its headers, ETag,
# path tricks refused, --ui-dir by MULTIDB_WEB_UI_DIR).
use strict;
use warnings;

use File::Temp qw(tempfile);
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use MultidbLlm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote_a = start_remote('shop_a');
my $remote_b = start_remote('shop_b');
$remote_b->safe_psql('postgres', 'DELETE FROM items WHERE id > 40');
my $coordinator = start_coordinator();
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');
add_connection($coordinator, 'shop1', $remote_a);
add_connection($coordinator, 'shop2', $remote_b);

$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
	GRANT alice, bob TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
	GRANT USAGE ON FOREIGN SERVER shop1, shop2 TO alice, bob;
	CREATE USER MAPPING FOR alice SERVER shop1 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER shop2 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER shop1 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER shop2 OPTIONS (user 'reader', password 'secret');
	ALTER ROLE alice SET multidb.default_connections = 'shop1';
	ALTER ROLE alice SET multidb.max_repairs = 0;
	ALTER ROLE bob SET multidb.max_repairs = 0;
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $llm = MultidbLlm->new(rules => [
		{ match => 'How many items', reply => encode_json({ queries => [ { database => 'shop1',
				sql => 'SELECT count(*) AS n FROM items' } ], explanation => 'Counts the items.' }) },
		{ match => 'two thousand numbers', reply => encode_json({ queries => [ { database => 'shop1',
				sql => 'SELECT g AS n FROM generate_series(1, 2000) g' } ] }) },
		{ match => 'the big result', reply => encode_json({ queries => [ { database => 'shop1',
				sql => q{SELECT g AS n, repeat('x', 150) AS pad FROM generate_series(1, 300000) g} } ] }) },
		{ match => 'Compare the counts', reply => encode_json({ queries => [ map { { database => $_,
				sql => 'SELECT count(*) AS n FROM items' } } qw(shop1 shop2) ],
				combine => 'SELECT shop1.n - shop2.n AS difference FROM shop1, shop2' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice, bob;");

my $conninfo = authenticator_conninfo($coordinator);
my $launched = launch_gateway(flags => [ '--database', $conninfo ]);
my ($gateway, $url, $port) = @$launched{qw(handle url port)};

# Every answer checked against the document later: [method, OpenAPI path, status, body].
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
my $alice = 'alice:alice-pw';
my $bob = 'bob:bob-pw';
my ($status, $body);

# 1. POST /api/sql: SQL a user wrote, run by multidb.fanout on the databases chosen.
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql',
	'{"sql": "SELECT count(*) AS n FROM items", "connection_ids": ["shop1", 2]}');
is($status, 200, 'POST /api/sql: 200');
is_deeply([ map { $_->{connection_name} } @{ $body->{database_results} } ], [ 'shop1', 'shop2' ],
	'... one result per database, in the order asked (an id resolved to its name)');
is_deeply([ map { $_->{rows}[0]{n} } @{ $body->{database_results} } ], [ 100, 40 ], '... each with its rows');
is($body->{database_results}[0]{columns}[0]{type}, 'number', '... and typed columns');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "SELECT 1 AS z, 2 AS a", "connection_ids": ["shop1"]}');
is_deeply([ map { $_->{name} } @{ $body->{database_results}[0]{columns} // [] } ], [ 'z', 'a' ],
	'... columns in the statement\'s order (z, a), not the rows\' jsonb key order');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"connection_ids": ["shop1"]}');
is($status, 400, 'POST /api/sql without sql: 400');
is($body->{error}{field}, 'sql', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "SELECT 1"}');
is($status, 400, 'POST /api/sql without connection_ids: 400');
is($body->{error}{field}, 'connection_ids', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "SELECT 1", "connection_ids": ["nowhere"]}');
is($status, 404, 'POST /api/sql on a connection that does not exist: 404');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "DELETE FROM items", "connection_ids": ["shop1"]}');
is($status, 422, 'POST /api/sql of a DELETE: 422, refused by the guard');
like($body->{error}{message}, qr/refused/, '... saying so');
is($remote_a->safe_psql('postgres', 'SELECT count(*) FROM items'), '100', '... and nothing was deleted');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "SELECT * FROM nope", "connection_ids": ["shop1"]}');
is($status, 502, 'POST /api/sql failing on the remote: 502');
is($body->{error}{sqlstate}, '42P01', "... with the remote's SQLSTATE");
is($body->{error}{database}, 'shop1', '... naming the database');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql',
	'{"sql": "SELECT current_user AS u, inet_server_port() AS p", "connection_ids": ["shop1"]}');
is($body->{database_results}[0]{rows}[0]{p}, $remote_a->port, 'the SQL ran on the remote, never on the coordinator');

# 2. POST /api/plan: multidb.plan's dry run.
my $history_before = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.query_history');
($status, $body) = call($alice, 'POST', '/api/plan', '/api/plan',
	'{"question": "Compare the counts", "connection_ids": ["shop1", "shop2"]}');
is($status, 200, 'POST /api/plan: 200');
is_deeply([ map { $_->{database} } @{ $body->{queries} } ], [ 'shop1', 'shop2' ], '... the SQL per database');
like($body->{combine}, qr/shop1\.n - shop2\.n/, '... and the combine step');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.query_history'), $history_before,
	'... nothing recorded (nothing ran)');
($status, $body) = call($alice, 'POST', '/api/plan', '/api/plan', '{"connection_ids": ["shop1"]}');
is($status, 400, 'POST /api/plan without a question: 400');
is($body->{error}{field}, 'question', '... naming the field');

# 3. POST /api/query: the seed's single-database ask, on multidb.default_connections.
($status, $body) = call($alice, 'POST', '/api/query', '/api/query', '{"question": "How many items?"}');
is($status, 200, 'POST /api/query: 200');
is($body->{database_results}[0]{connection_name}, 'shop1', "... on alice's multidb.default_connections");
is($body->{database_results}[0]{rows}[0]{n}, 100, '... with its rows');
ok($body->{query_history_id}, '... and its history id');
my $alice_history = $body->{query_history_id};
($status, $body) = call($bob, 'POST', '/api/query', '/api/query', '{"question": "How many items?"}');
is($status, 400, 'POST /api/query of a role with two connections and no default: 400');
like($body->{error}{hint}, qr/multidb\.default_connections/, '... the HINT naming the setting');
($status, $body) = call($alice, 'POST', '/api/query', '/api/query', '{"question": "How many items?", "connection_ids": ["shop2"]}');
is($status, 400, 'POST /api/query with connection_ids: 400');
is($body->{error}{field}, 'connection_ids', '... naming the field');

# 4. GET /api/history: the caller's own asks.
($status, $body) = call($alice, 'GET', '/api/history', '/api/history');
is($status, 200, 'GET /api/history: 200');
is($body->[0]{id}, $alice_history, "... alice's newest ask first");
is($body->[0]{status}, 'ok', '... with its status');
like($body->[0]{prompt_tokens}, qr/^\d+$/, '... and the tokens the LLM counted: prompt');
like($body->[0]{completion_tokens}, qr/^\d+$/, '... and completion');
($status, $body) = call($bob, 'GET', '/api/history', '/api/history');
ok(!grep({ $_->{id} == $alice_history } @$body), "bob does not see alice's asks");
($status, $body) = call($alice, 'GET', '/api/history?limit=1&before=' . ($alice_history + 1), '/api/history');
is(scalar @$body, 1, '?limit and ?before page');
($status, $body) = call($alice, 'GET', '/api/history?limit=abc', '/api/history');
is($status, 400, '?limit=abc: 400');
is($body->{error}{field}, 'limit', '... naming the parameter');

# 5. A message's results, streamed as JSON or CSV.
($status, $body) = call($alice, 'POST', '/api/chat/sessions', '/api/chat/sessions', '{"name": "export", "connection_ids": ["shop1"]}');
my $session = $body->{id};
($status, $body) = call($alice, 'POST', "/api/chat/sessions/$session/messages", '/api/chat/sessions/{id}/messages',
	'{"question": "How many items?"}');
is($status, 201, 'an ask in a session');
($status, $body) = call($alice, 'GET', "/api/chat/sessions/$session/messages", '/api/chat/sessions/{id}/messages');
my ($answer) = grep { $_->{role} eq 'assistant' } @$body;
my $results = "/api/chat/sessions/$session/messages/$answer->{id}/results";
my $results_doc = '/api/chat/sessions/{id}/messages/{message}/results';
($status, $body, my $headers) = call($alice, 'GET', $results, $results_doc);
is($status, 200, "GET …/messages/{id}/results: 200");
is_deeply($body, [ { database => 'shop1', row => { n => 100 } } ], '... the rows of its plan, as JSON');
like($headers, qr/Transfer-Encoding: chunked/i, '... streamed (chunked)');
($status, $body, $headers) = curl('-u', $alice, "$url$results?format=csv&database=shop1");
is($status, 200, '?format=csv&database=shop1: 200');
is($body, "source_db,n\r\nshop1,100\r\n", '... CSV with a header');
like($headers, qr{Content-Type: text/csv}i, '... as text/csv');
($status, $body) = call($alice, 'GET', "$results?database=shop2", $results_doc);
is($status, 404, 'a database the plan did not use: 404');
is($body->{error}{database}, 'shop2', '... naming it');
($status, $body) = call($alice, 'GET', "$results?format=xml", $results_doc);
is($status, 400, '?format=xml: 400');
is($body->{error}{field}, 'format', '... naming the parameter');
($status, $body) = call($bob, 'GET', $results, $results_doc);
is($status, 404, "bob reading alice's message's results: 404");
($status, $body) = call($alice, 'GET', "/api/chat/sessions/$session/messages/999999/results", $results_doc);
is($status, 404, 'a message that does not exist: 404');

# A large result goes through without the gateway's memory growing with it: the ask is made in SQL (so the
# gateway never held its rows), then exported over HTTP.
$coordinator->safe_psql('postgres', "SET ROLE alice; SELECT count(*) FROM multidb.ask('Show me the big result', '$session')");
($status, $body) = call($alice, 'GET', "/api/chat/sessions/$session/messages", '/api/chat/sessions/{id}/messages');
my ($big) = grep { $_->{role} eq 'assistant' } reverse @$body;
my $gateway_pid = $gateway->{KIDS}[0]{PID};
sub peak_rss_kb
{
	open my $fh, '<', "/proc/$gateway_pid/status" or return 0;
	my ($kb) = map { /^VmHWM:\s+(\d+)/ ? $1 : () } <$fh>;
	return $kb;
}
curl('-u', $alice, '-o', '/dev/null', "$url$results?format=csv");
my $rss_before = peak_rss_kb();
my (undef, $big_file) = tempfile();
for my $format ('csv', 'json')
{
	my ($code) = curl('-u', $alice, '-o', $big_file, "$url/api/chat/sessions/$session/messages/$big->{id}/results?format=$format");
	my $size = -s $big_file;
	my $grown = peak_rss_kb() - $rss_before;
	is($code, 200, "a large export as $format: 200");
	cmp_ok($size, '>', 45_000_000, "... of " . int($size / 1e6) . ' MB');
	cmp_ok($grown, '<', 15_000, "... while the peak of the gateway's RSS (VmHWM) grew by $grown kB only");
}
my ($code) = curl('-u', $alice, '-o', "$big_file.csv", "$url/api/chat/sessions/$session/messages/$big->{id}/results?format=csv");
my $lines = `wc -l < $big_file.csv`;
is($lines + 0, 300_001, '... every row in it, and the header');

# Paging through the server: ?offset and ?limit (the plan runs again; its rows come in its own order).
$coordinator->safe_psql('postgres', "SET ROLE alice; SELECT count(*) FROM multidb.ask('Show two thousand numbers', '$session')");
($status, $body) = call($alice, 'GET', "/api/chat/sessions/$session/messages", '/api/chat/sessions/{id}/messages');
my ($numbers) = grep { $_->{role} eq 'assistant' } reverse @$body;
my $big_results = "/api/chat/sessions/$session/messages/$numbers->{id}/results";
($status, $body, $headers) = call($alice, 'GET', "$big_results?offset=1000&limit=3", $results_doc);
is($status, 200, '?offset=1000&limit=3: 200');
is_deeply([ map { "$_->{database} $_->{row}{n}" } @$body ], [ 'shop1 1001', 'shop1 1002', 'shop1 1003' ],
	'... the three rows after the first thousand');
unlike($headers, qr/X-Total-Count/i, '... with no total (it would take running the plan to its end first)');
($status, $body) = call($alice, 'GET', "$big_results?database=shop1&offset=1998", $results_doc);
is_deeply([ map { $_->{row}{n} } @$body ], [ 1999, 2000 ], '?database= and ?offset alone: the last rows');
($status, $body) = call($alice, 'GET', "$big_results?limit=5", $results_doc);
is(scalar @$body, 5, '?limit=5 alone: the first five');
($status, $body) = curl('-u', $alice, "$url$big_results?format=csv&offset=10&limit=2");
is($body, "source_db,n\r\nshop1,11\r\nshop1,12\r\n", '... a page as CSV, its header first');
for my $bad ([ 'limit=10001', 'limit' ], [ 'limit=-1', 'limit' ], [ 'offset=1e3', 'offset' ], [ 'offset=', 'offset' ])
{
	($status, $body) = call($alice, 'GET', "$big_results?$bad->[0]", $results_doc);
	is($status, 400, "?$bad->[0]: 400");
	is($body->{error}{field}, $bad->[1], "... naming $bad->[1]");
}

# 6. Groups, compare, schema-diff.
($status, $body) = call($alice, 'POST', '/api/groups', '/api/groups', '{"name": "@both", "connection_ids": ["shop1", 2]}');
is($status, 201, 'POST /api/groups: 201');
is_deeply($body->{connections}, [ 'shop1', 'shop2' ], '... its members by name');
($status, $body) = call($alice, 'POST', '/api/groups', '/api/groups', '{"name": "both", "connection_ids": ["shop1"]}');
is($status, 409, 'a group name that is taken: 409');
($status, $body) = call($alice, 'POST', '/api/groups', '/api/groups', '{"name": "x"}');
is($status, 400, 'a group without connection_ids: 400');
is($body->{error}{field}, 'connection_ids', '... naming the field');
($status, $body) = call($bob, 'GET', '/api/groups', '/api/groups');
is_deeply([ map { $_->{name} } @$body ], [ 'both' ], 'GET /api/groups: every role reads the groups');
($status, $body) = call($bob, 'PATCH', '/api/groups/both', '/api/groups/{name}', '{"remove": ["shop2"]}');
is($status, 403, "bob changing alice's group: 403");
($status, $body) = call($alice, 'PATCH', '/api/groups/both', '/api/groups/{name}', '{"remove": ["shop2"]}');
is($status, 200, 'PATCH /api/groups/{name}: 200');
is_deeply($body->{connections}, [ 'shop1' ], '... the member removed');
($status, $body) = call($alice, 'PATCH', '/api/groups/nope', '/api/groups/{name}', '{"add": ["shop2"]}');
is($status, 404, 'a group that does not exist: 404');
($status, $body) = call($alice, 'POST', '/api/sql', '/api/sql', '{"sql": "SELECT 1 AS one", "connection_ids": ["@both"]}');
is_deeply([ map { $_->{connection_name} } @{ $body->{database_results} } ], [ 'shop1' ], 'a group stands for its members');
($status, $body) = call($bob, 'DELETE', '/api/groups/both', '/api/groups/{name}');
is($status, 403, "bob dropping alice's group: 403");
($status, $body) = curl('-u', $alice, '-X', 'DELETE', "$url/api/groups/both");
is($status, 204, 'DELETE /api/groups/{name}: 204');

($status, $body) = call($alice, 'POST', '/api/compare', '/api/compare',
	'{"sql": "SELECT id, name FROM items WHERE id > 38 AND id < 43", "a": "shop1", "b": 2, "key": ["id"]}');
is($status, 200, 'POST /api/compare: 200');
is_deeply([ map { $_->{key}{id} } @{ $body->{differences} } ], [ 41, 42 ], '... the rows only a has');
is($body->{differences}[0]{status}, 'only_in_a', '... said so');
($status, $body) = call($alice, 'POST', '/api/compare', '/api/compare', '{"sql": "SELECT 1", "a": "shop1"}');
is($status, 400, 'POST /api/compare without b: 400');
is($body->{error}{field}, 'b', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/compare', '/api/compare', '{"sql": "SELECT pg_sleep(0) FROM items; DROP TABLE items", "a": "shop1", "b": "shop2"}');
is($status, 422, 'POST /api/compare of a DROP: 422, refused by the guard');
$remote_b->safe_psql('postgres', 'CREATE TABLE only_here (x int)');
($status, $body) = call($alice, 'GET', '/api/schema-diff?a=shop1&b=shop2&refresh=true', '/api/schema-diff');
is($status, 200, 'GET /api/schema-diff: 200');
ok((grep { $_->{object_name} =~ /only_here/ && $_->{difference} =~ /only in shop2/ } @{ $body->{differences} }),
	'... the table only b has');
($status, $body) = call($alice, 'GET', '/api/schema-diff?a=shop1', '/api/schema-diff');
is($status, 400, 'GET /api/schema-diff without b: 400');
is($body->{error}{field}, 'b', '... naming the parameter');

# The query builder's routes (050_http_builder.pl tests them; here their answers are checked against the document
# with the others').
($status, $body) = call($alice, 'GET', '/api/build/catalog?connection=shop1&connection=2', '/api/build/catalog');
is($status, 200, 'GET /api/build/catalog: 200');
my $spec = '{"spec": {"connections": ["shop1", "shop2"], "table": "items", "mode": "totals", "summaries": [{"fn": "count"}]}}';
($status, $body) = call($alice, 'POST', '/api/build/sql', '/api/build/sql', $spec);
is($status, 200, 'POST /api/build/sql: 200');
($status, $body) = call($alice, 'POST', '/api/build', '/api/build', $spec);
is_deeply($body->{combined}{rows}, [ { count => 140 } ], 'POST /api/build: the items of both counted together');
($status, $body) = call($alice, 'POST', '/api/build', '/api/build',
	'{"spec": {"table": "items", "columns": ["id"], "mode": "compare", "compare": {"a": "shop1", "b": "shop2", "key": ["id"]}}}');
is($body->{count}, 60, '... and compared: the 60 items only shop1 has');

# 7. Reports: saved from a message's ask (its plan frozen), run, runs, diff, schedule.
my $llm_calls = scalar(() = $llm->requests);
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports',
	qq({"name": "items", "chat_session_id": "$session", "message_id": $answer->{id}}));
is($status, 201, 'POST /api/reports from a message: 201');
is_deeply($body->{plan}{queries}, [ { database => 'shop1', sql => 'SELECT count(*) AS n FROM items' } ],
	"... the plan the message's ask ran");
is(scalar(() = $llm->requests), $llm_calls, '... frozen without asking the LLM again');
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports',
	qq({"name": "items", "chat_session_id": "$session", "message_id": $answer->{id}}));
is($status, 409, 'a report name that is taken: 409');
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports', '{"name": "x", "sql": "DELETE FROM items", "connection_ids": ["shop1"]}');
is($status, 422, 'a report of a DELETE: 422, refused by the guard');
($status, $body) = call($alice, 'POST', '/api/reports', '/api/reports', '{"name": "x"}');
is($status, 400, 'a report without message_id or sql: 400');
is($body->{error}{field}, 'message_id', '... naming the field');
($status, $body) = call($bob, 'POST', '/api/reports', '/api/reports',
	qq({"name": "mine", "chat_session_id": "$session", "message_id": $answer->{id}}));
is($status, 404, "bob saving alice's message as a report: 404");
($status, $body) = call($alice, 'POST', '/api/reports/items/runs', '/api/reports/{name}/runs', '{}');
is($status, 201, 'POST /api/reports/{name}/runs: 201');
is($body->{status}, 'ok', '... the run ok');
is_deeply($body->{rows}, [ { database => 'shop1', row => { n => 100 } } ], '... with its rows');
$remote_a->safe_psql('postgres', 'DELETE FROM items WHERE id = 100');
($status, $body) = call($alice, 'POST', '/api/reports/items/runs', '/api/reports/{name}/runs', '{}');
($status, $body) = call($alice, 'GET', '/api/reports/items/runs', '/api/reports/{name}/runs');
is(scalar @$body, 2, 'GET /api/reports/{name}/runs: both runs');
($status, $body) = call($alice, 'GET', '/api/reports/items/diff', '/api/reports/{name}/diff');
is($status, 200, 'GET /api/reports/{name}/diff: 200');
is_deeply([ sort map { "$_->{change} $_->{row}{n}" } @{ $body->{changes} } ], [ 'added 99', 'removed 100' ], '... what changed');
($status, $body) = call($bob, 'POST', '/api/reports/items/runs', '/api/reports/{name}/runs', '{}');
is($status, 404, "bob running alice's report: 404");
($status, $body) = call($bob, 'GET', '/api/reports/items/diff', '/api/reports/{name}/diff');
is($status, 404, "bob reading alice's report's diff: 404");
($status, $body) = call($alice, 'GET', '/api/reports', '/api/reports');
is_deeply([ map { $_->{name} } @$body ], [ 'items' ], 'GET /api/reports: the caller\'s');
is($body->[0]{last_run}{status}, 'ok', '... with its last run');
ok(exists $body->[0]{schedule} && !defined $body->[0]{schedule}, '... and its schedule: none');
($status, $body) = call($alice, 'GET', '/api/reports/scheduling', '/api/reports/scheduling');
is($status, 200, 'GET /api/reports/scheduling: 200');
ok(!$body->{available}, '... scheduling is not available here');
like($body->{error}{message}, qr/pg_cron is not installed/, '... because pg_cron is not installed');
like($body->{error}{hint}, qr/CREATE EXTENSION pg_cron/, '... the HINT saying how to');
($status, $body) = call($alice, 'PUT', '/api/reports/items/schedule', '/api/reports/{name}/schedule', '{}');
is($status, 400, 'PUT …/schedule without a schedule: 400');
is($body->{error}{field}, 'schedule', '... naming the field');
($status, $body) = call($alice, 'PUT', '/api/reports/items/schedule', '/api/reports/{name}/schedule', '{"schedule": "0 6 * * *"}');
is($status, 400, 'PUT …/schedule without pg_cron: 400');
like($body->{error}{hint}, qr/pg_cron/, '... the HINT on installing pg_cron');

# 7b. Each connection's health for the caller: reachable, or why not (never a password).
my $closed_port = PostgreSQL::Test::Cluster::get_free_port();
$coordinator->safe_psql('postgres', qq{
	SELECT multidb.add_connection('gone', 'host=127.0.0.1 port=$closed_port dbname=postgres user=reader password=secret',
	  validate => false);
	SELECT multidb.add_connection('unmapped', 'host=} . $remote_a->host . ' port=' . $remote_a->port . qq{ dbname=postgres user=reader password=secret');
	SELECT multidb.add_connection('privileged', 'host=127.0.0.1 port=} . $remote_b->port . qq{ dbname=postgres user=boss password=secret',
	  validate => false);
	GRANT USAGE ON FOREIGN SERVER gone, unmapped, privileged TO alice;
	CREATE USER MAPPING FOR alice SERVER gone OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER privileged OPTIONS (user 'boss', password 'secret');});
# A remote role multidb refuses (a superuser): an ERROR whatever multidb.on_error says, so the others are tried again.
$remote_b->safe_psql('postgres', q{CREATE ROLE boss LOGIN SUPERUSER PASSWORD 'secret'});
($status, $body, $headers) = call($alice, 'GET', '/api/connections/health', '/api/connections/health');
is($status, 200, 'GET /api/connections/health: 200');
my %health = map { $_->{name} => $_ } @$body;
is_deeply([ map { $_->{name} } @$body ], [ 'shop1', 'shop2', 'gone', 'unmapped', 'privileged' ],
	'... every connection, in id order');
ok($health{shop1}{reachable} && $health{shop2}{reachable}, '... shop1 and shop2 reachable');
is($health{shop1}{status}, 'reachable', '... said so');
is($health{shop1}{error}, undef, '... with no error');
ok(!$health{gone}{reachable}, '... a server that is down is not');
is($health{gone}{status}, 'unreachable', '... unreachable');
like($health{gone}{error}{message}, qr/connection "gone": could not connect.*refused/s, '... the reason libpq gave');
is($health{gone}{error}{sqlstate}, '08001', '... its SQLSTATE');
is($health{unmapped}{status}, 'unusable', '... one without a user mapping for alice: unusable');
like($health{unmapped}{error}{message}, qr/has no user mapping for role "alice"/, '... the reason');
like($health{unmapped}{error}{hint}, qr/CREATE USER MAPPING/, '... and the HINT of what to run');
is($health{privileged}{status}, 'refused', '... one whose remote role multidb refuses: refused');
like($health{privileged}{error}{message}, qr/connection "privileged".*superuser/, '... saying why');
is($health{privileged}{error}{sqlstate}, '42501', '... 42501');
unlike(encode_json($body), qr/secret/, '... and never a password');
($status, $body) = call($bob, 'GET', '/api/connections/health?connection=gone&connection=1', '/api/connections/health');
is_deeply([ map { "$_->{name} $_->{status} " . ($_->{usable} ? 'usable' : 'no USAGE') } @$body ],
	[ 'shop1 reachable usable', 'gone unusable no USAGE' ], '?connection= (a name, an id): only those, as bob can use them');
like($body->[1]{error}{message}, qr/permission denied for connection "gone"/, '... bob has no USAGE on it');
($status, $body) = call($alice, 'GET', '/api/connections/health?connection=nowhere', '/api/connections/health');
is($status, 404, '?connection= of an unknown connection: 404');
is($body->{error}{field}, 'connection', '... naming the parameter');

# 8. The document: every route the server has is documented, every documented route exists.
my $program = gateway_program();
my $routes = `$program --print-routes`;
is($? >> 8, 0, '--print-routes runs without a coordinator');
my %served;
for my $line (split /\n/, $routes)
{
	my ($method, $pattern) = split / /, $line, 2;
	$pattern =~ s{\(\[\^/\]\+\)}{\{\}}g;
	$pattern =~ s{\(\[A-Za-z0-9\._-\]\+\)}{\{\}}g;
	$served{ lc($method) . ' ' . $pattern } = 1;
}
($status, my $doc) = curl("$url/api/openapi.json");
is($status, 200, 'GET /api/openapi.json: 200, without signing in');
is($doc->{openapi}, '3.1.0', '... an OpenAPI 3.1 document');
my %documented;
for my $path (keys %{ $doc->{paths} })
{
	(my $shape = $path) =~ s/\{[^}]+\}/{}/g;
	$documented{"$_ $shape"} = 1 for grep { /^(get|post|patch|delete|put)$/ } keys %{ $doc->{paths}{$path} };
}
is_deeply([ sort grep { !$documented{$_} } keys %served ], [], 'every route the server has is documented');
is_deeply([ sort grep { !$served{$_} } keys %documented ], [], 'every documented route exists');
ok($served{'post /api/sql'} && $served{'get /api/history'}, '... the list holds the new routes');

# 9. Real answers against the document's schemas.
my ($checked, $check_err, @invalid) = check_answers($doc, \@answers);
is($check_err, '', 'the schema check ran');
cmp_ok($checked // 0, '>=', 15, "... on $checked real answers");
is_deeply(\@invalid, [], '... all valid against the document');

# 10. The API page: swagger-ui, its files from disk, no CDN.
($status, $body, $headers) = curl("$url/api/docs");
is($status, 200, 'GET /api/docs: 200');
like($body, qr{<script src="/api/docs/swagger-ui-bundle\.js">}, '... loading swagger-ui from the gateway');
unlike($body, qr{https?://}, '... and from nowhere else');
($status, $body) = curl("$url/api/docs/swagger-ui-bundle.js");
is($status, 200, "swagger-ui-dist's bundle is served from disk");
like($body, qr/SwaggerUIBundle/, '... and is the bundle');
($status, $body) = curl("$url/api/docs/..%2Fpg_hba.conf");
is($status, 404, 'a file that is not one of the page is 404');

# A 401 to a page's own fetch has no Basic challenge (a browser would hold the fetch and open its own password
# dialog); a program's 401 keeps it.
($status, $body, $headers) = curl("$url/api/auth/me");
is($status, 401, 'GET /api/auth/me signed out: 401');
like($headers, qr/^WWW-Authenticate: Basic/mi, '... with the Basic challenge for a program');
($status, $body, $headers) = curl('-H', 'Sec-Fetch-Mode: cors', "$url/api/auth/me");
is($status, 401, '... and to a page\'s fetch (Sec-Fetch-Mode: cors): 401');
unlike($headers, qr/WWW-Authenticate/i, '... without the challenge');
is($body->{error}{message}, 'sign in first', '... its JSON error as ever');

# 11. The web UI: its page at / and its files at /ui/, from --ui-dir (here where make install put them), with the
# page's security headers; an ETag answered 304; nothing outside the directory, no hidden file; / shadows no /api.
my $csp = q{default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'};
($status, $body, $headers) = curl("$url/");
is($status, 200, 'GET /: 200, without signing in');
like($body, qr{<script type="module" src="/ui/app\.js">}, '... the UI\'s page, loading its bundle from the gateway');
unlike($body, qr{<script>|https?://}, '... no inline script, nothing from another origin');
like($headers, qr{^Content-Type: text/html; charset=utf-8\r?$}mi, '... as HTML');
like($headers, qr{^Content-Security-Policy: \Q$csp\E\r?$}mi, '... under its Content-Security-Policy');
like($headers, qr{^X-Content-Type-Options: nosniff\r?$}mi, '... X-Content-Type-Options: nosniff');
like($headers, qr{^Referrer-Policy: same-origin\r?$}mi, '... Referrer-Policy: same-origin');
like($headers, qr{^Cache-Control: no-cache\r?$}mi, '... asked again on each visit (no-cache)');
my ($etag) = $headers =~ /^ETag: (\S+)\r?$/mi;
ok($etag, '... with an ETag');
($status, $body, $headers) = curl('-H', "If-None-Match: $etag", "$url/");
is($status, 304, '... which, sent back, is a 304');
is($body, '', '... with no body');
for my $file ([ 'app.js', 'text/javascript; charset=utf-8' ], [ 'app.css', 'text/css; charset=utf-8' ])
{
	($status, $body, $headers) = curl("$url/ui/$file->[0]");
	is($status, 200, "GET /ui/$file->[0]: 200");
	like($headers, qr{^Content-Type: \Q$file->[1]\E\r?$}mi, "... as $file->[1]");
	like($headers, qr{^ETag: "[0-9a-f]+-[0-9a-f]+"\r?$}mi, '... with an ETag');
	like($headers, qr{^X-Content-Type-Options: nosniff\r?$}mi, '... and nosniff');
}
($status, $body) = curl("$url/api/health");
is($body->{status}, 'ok', 'GET /api/health still answers: / shadows no /api route');
($status, $body) = curl("$url/api/nothing-here");
is($status, 404, 'GET /api/nothing-here: 404');
is($body->{error}{message}, 'no such endpoint', '... the JSON of an unknown endpoint, not the UI');

# The same gateway on a directory of the test's own (by MULTIDB_WEB_UI_DIR): a file not there, a hidden file, a
# directory, a name outside the types, path tricks, a very long name — all 404 (or 414), never a file's content.
my $ui_dir = PostgreSQL::Test::Utils::tempdir();
mkdir "$ui_dir/sub.js";
for my $name ('index.html', '.hidden', 'secret.conf')
{
	open my $fh, '>', "$ui_dir/$name" or die "$name: $!";
	print $fh "content of $name\n";
	close $fh;
}
{
	my $ui = launch_gateway(flags => [ '--database', $conninfo ], env => { MULTIDB_WEB_UI_DIR => $ui_dir });
	my ($ui_gateway, $ui_url) = @$ui{qw(handle url)};
	($status, $body) = curl("$ui_url/");
	is($body, "content of index.html\n", 'MULTIDB_WEB_UI_DIR: / serves that directory\'s index.html');
	($status, $body, $headers) = curl("$ui_url/ui/app.js");
	is($status, 404, 'a file the directory lacks: 404');
	like($body->{error}{message}, qr/no file app\.js of the web UI in \Q$ui_dir\E/, '... saying where it looked');
	like($body->{error}{hint}, qr/--ui-dir.*make install/, '... the HINT: make install, or --ui-dir');
	like($headers, qr{^Content-Type: application/json}mi, '... as JSON');
	like($headers, qr{^Content-Security-Policy: }mi, '... under the page\'s policy still');
	for my $path ('/ui/.hidden', '/ui/sub.js', '/ui/secret.conf', '/ui/..%2f..%2fetc%2fpasswd', '/ui/%2e%2e%2fsecret.conf',
		'/ui/..', '/ui/' . ('a' x 300) . '.js', '/ui/index.html%00.js')
	{
		($status, $body) = curl('--path-as-is', "$ui_url$path");
		is($status, 404, "GET $path: 404");
		ok(ref $body && $body->{error}{message}, '... a JSON error, no file\'s content');
	}
	($status, $body) = curl("$ui_url/ui/" . ('a' x 9000) . '.js');
	ok($status == 414 || $status == 404, "a name of 9,000 bytes: $status");
	$ui_gateway->kill_kill;
}

$gateway->kill_kill;
done_testing();
