# multidb-web's views over real HTTP against real clusters: a snapshot view of SQL made (POST /api/views),
# listed, described (its column types), read (JSON and CSV, a limit, pages of it), refreshed after the remotes changed,
# checked for drift after a remote retyped a column, rebound, dropped; a live view and a question's view (the
# scripted LLM); the errors (a bad body 400 naming its field, an unknown view 404, another role's view 404 and,
# once shared with GRANT SELECT, its rows readable but its refresh and drop 403), each a JSON error with its
# SQLSTATE, message and HINT; every answer valid against the OpenAPI document's schemas.
use strict;
use warnings;

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
	ALTER ROLE alice SET multidb.max_repairs = 0;
	CREATE SCHEMA dash AUTHORIZATION alice;
	CREATE SCHEMA "Bob's" AUTHORIZATION bob;
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $llm = MultidbLlm->new(rules => [
		{ match => 'How many items', reply => encode_json({ queries => [ { database => 'shop1',
				sql => 'SELECT count(*) AS n FROM items' } ], explanation => 'Counts the items.' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice, bob;");

my $conninfo = authenticator_conninfo($coordinator);
my $launched = launch_gateway(flags => [ '--database', $conninfo ]);
my ($gateway, $url, $port) = @$launched{qw(handle url port)};

# Every JSON answer, checked against the document at the end: [method, OpenAPI path, status, body].
my @answers;
sub call
{
	my ($who, $method, $path, $doc_path, $data, @extra) = @_;
	my @args = ('-u', $who, '-X', $method, '-H', 'Content-Type: application/json', @extra);
	push @args, '-d', $data if defined $data;
	my ($status, $body, $headers) = curl(@args, "$url$path");
	push @answers, [ lc $method, $doc_path, $status, $body ] if ref $body;
	return ($status, $body, $headers);
}
my $alice = 'alice:alice-pw';
my $bob = 'bob:bob-pw';
my ($status, $body, $headers);
my $one = '/api/views/{view}';

# 1. A snapshot view of SQL on both databases.
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.prices", "sql": "SELECT id, name, price FROM items WHERE id <= 3", "connections": ["shop1", 2],'
	. ' "description": "the first three prices"}');
is($status, 201, 'POST /api/views of SQL: 201') or diag explain $body;
is($body->{view}, 'dash.prices', '... its entry, named as multidb.views names it');
is($body->{mode}, 'snapshot', '... a snapshot (the default)');
is_deeply($body->{connections}, [ 'shop1', 'shop2' ], '... on both databases (an id resolved to its name)');
is($body->{status}, 'ok', '... refreshed once when made');
is($body->{row_count}, 6, '... holding three rows of each database');
is($coordinator->safe_psql('postgres', "SELECT obj_description('dash.prices'::regclass)"), 'the first three prices',
	'... its description the comment on the view');

($status, $body) = call($alice, 'GET', '/api/views', '/api/views');
is($status, 200, 'GET /api/views: 200');
is_deeply([ map { $_->{view} } @$body ], [ 'dash.prices' ], "... alice's view");

($status, $body) = call($alice, 'GET', '/api/views/dash.prices', $one);
is($status, 200, 'GET /api/views/{view}: 200');
is_deeply([ map { "$_->{name} $_->{type}" } @{ $body->{view_columns} } ],
	[ 'source_db text', '_as_of timestamp with time zone', 'id integer', 'name text', 'price numeric(10,2)' ],
	'... its columns typed as the remotes describe them');
($status, $body) = call($alice, 'GET', '/api/views/%22dash%22.%22prices%22', $one);
is($status, 200, '... the name quoted and percent-encoded names it too');

# 2. Its rows: JSON in column order, CSV by Accept, a limit.
($status, $body, $headers) = curl('-u', $alice, "$url/api/views/dash.prices/rows");
is($status, 200, 'GET /api/views/{view}/rows: 200');
like($headers, qr{Content-Type: application/json}i, '... JSON by default');
like($headers, qr{Transfer-Encoding: chunked}i, '... streamed');
is(scalar @$body, 6, '... every row');
is_deeply([ sort map { "$_->{source_db} $_->{id} " . ($_->{price} + 0) } @$body ],
	[ 'shop1 1 1.5', 'shop1 2 3', 'shop1 3 4.5', 'shop2 1 1.5', 'shop2 2 3', 'shop2 3 4.5' ],
	'... from both databases');
($status, $body, $headers) = curl('-u', $alice, '-H', 'Accept: text/csv', "$url/api/views/dash.prices/rows");
is($status, 200, 'the rows with Accept: text/csv: 200');
like($headers, qr{Content-Type: text/csv}i, '... as CSV');
my @lines = split /\r\n/, $body;
is($lines[0], 'source_db,_as_of,id,name,price', "... its header the view's columns in order");
is(scalar @lines, 7, '... and a line per row');
is(scalar(grep { /^shop1,[^,]+,1,item 1,1\.50$/ } @lines), 1, '... each value as Postgres writes it (numeric(10,2): 1.50)');
($status, $body) = curl('-u', $alice, "$url/api/views/dash.prices/rows?limit=2&format=json");
is(scalar @$body, 2, '?limit=2: two rows');
# Pages through the server: ?offset and ?limit, the snapshot's total in X-Total-Count.
my ($all_status, $all_rows) = curl('-u', $alice, "$url/api/views/dash.prices/rows");
($status, $body, $headers) = call($alice, 'GET', '/api/views/dash.prices/rows?offset=2&limit=3', "$one/rows");
is($status, 200, '?offset=2&limit=3: 200');
is_deeply([ map { "$_->{source_db} $_->{id}" } @$body ], [ map { "$_->{source_db} $_->{id}" } @{$all_rows}[2 .. 4] ],
	'... the third to fifth rows');
like($headers, qr/^X-Total-Count: 6\r?$/mi, '... and the total of the snapshot');
($status, $body, $headers) = curl('-u', $alice, "$url/api/views/dash.prices/rows?offset=5");
is(scalar @$body, 1, '?offset=5 alone: the rest (the default limit is 1000)');
($status, $body, $headers) = curl('-u', $alice, "$url/api/views/dash.prices/rows?offset=4&limit=10&format=csv");
is($body =~ tr/\n//, 3, '... a page as CSV: its header and two lines');
($status, $body, $headers) = curl('-u', $alice, "$url/api/views/dash.prices/rows");
unlike($headers, qr/X-Total-Count/i, '... no total without paging (nothing counted)');
for my $bad ([ 'limit=-1', 'limit' ], [ 'limit=10001', 'limit' ], [ 'offset=x', 'offset' ], [ 'offset=-1&limit=5', 'offset' ])
{
	($status, $body) = call($alice, 'GET', "/api/views/dash.prices/rows?$bad->[0]", "$one/rows");
	is($status, 400, "?$bad->[0]: 400");
	is($body->{error}{field}, $bad->[1], "... naming $bad->[1]");
}

# 3. The remotes change: the snapshot stays until refreshed.
$remote_a->safe_psql('postgres', 'UPDATE items SET price = 100 WHERE id = 1');
($status, $body) = curl('-u', $alice, "$url/api/views/dash.prices/rows");
is_deeply([ map { $_->{price} + 0 } grep { $_->{source_db} eq 'shop1' && $_->{id} == 1 } @$body ], [ 1.5 ],
	'a snapshot keeps its rows while the remote changes');
($status, $body) = call($alice, 'POST', '/api/views/dash.prices/refresh', "$one/refresh", '{}');
is($status, 200, 'POST /api/views/{view}/refresh: 200');
is($body->{rows}, 6, '... six rows in the new snapshot');
is($body->{status}, 'ok', '... status ok');
($status, $body) = curl('-u', $alice, "$url/api/views/dash.prices/rows");
is_deeply([ map { $_->{price} + 0 } grep { $_->{source_db} eq 'shop1' && $_->{id} == 1 } @$body ], [ 100 ],
	'... and the rows are the remote\'s now');

# 4. Drift: a remote retypes a column.
($status, $body) = call($alice, 'GET', '/api/views/dash.prices/check', "$one/check");
is($status, 200, 'GET /api/views/{view}/check: 200');
is_deeply($body->{drift}, [], '... no drift yet');
$_->safe_psql('postgres', 'ALTER TABLE items ALTER COLUMN price TYPE numeric(12,2)') for $remote_a, $remote_b;
($status, $body) = call($alice, 'GET', '/api/views/dash.prices/check', "$one/check");
is_deeply([ sort map { "$_->{change} $_->{column_name} $_->{database}" } @{ $body->{drift} } ],
	[ 'retyped price shop1', 'retyped price shop2' ], '... then price retyped on both databases');
($status, $body) = call($alice, 'POST', '/api/views/dash.prices/refresh', "$one/refresh", '{}');
is($status, 200, 'a refresh that meets the drift: 200, its outcome in the body');
is($body->{rows}, undef, '... no new snapshot');
isnt($body->{status}, 'ok', "... status $body->{status}");
like($body->{error} // '', qr/price/, '... the error naming the column');
($status, $body) = call($alice, 'POST', '/api/views/dash.prices/rebind', "$one/rebind", '{"replan": "yes"}');
is($status, 400, 'rebind with a "replan" that is not a boolean: 400');
is($body->{error}{field}, 'replan', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/views/dash.prices/rebind', "$one/rebind", '{}');
is($status, 200, 'POST /api/views/{view}/rebind: 200');
is($body->{status}, 'ok', '... refreshed with the new columns');
($status, $body) = call($alice, 'GET', '/api/views/dash.prices', $one);
is_deeply([ map { $_->{type} } grep { $_->{name} eq 'price' } @{ $body->{view_columns} } ], [ 'numeric(12,2)' ],
	'... price is numeric(12,2) now');
($status, $body) = call($alice, 'GET', '/api/views/dash.prices/check', "$one/check");
is_deeply($body->{drift}, [], '... and nothing drifts');

# 5. A live view reads the remotes on every read; a question's view (planned by the scripted LLM).
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.counts", "sql": "SELECT count(*) AS n FROM items", "connections": ["shop1", "shop2"], "mode": "live"}');
is($status, 201, 'a live view: 201');
is($body->{mode}, 'live', '... live');
$remote_b->safe_psql('postgres', 'DELETE FROM items WHERE id > 30');
($status, $body) = curl('-u', $alice, "$url/api/views/dash.counts/rows");
is_deeply([ sort map { "$_->{source_db} $_->{n}" } @$body ], [ 'shop1 100', 'shop2 30' ], '... its rows as the remotes are now');
($status, $body, $headers) = call($alice, 'GET', '/api/views/dash.counts/rows?offset=1&limit=1', "$one/rows");
is(scalar @$body, 1, '... a page of it');
unlike($headers, qr/X-Total-Count/i, '... without a total (counting would read the remotes again)');
($status, $body) = call($alice, 'POST', '/api/views/dash.counts/refresh', "$one/refresh", '{}');
is($status, 400, 'refreshing a live view: 400');
is($body->{error}{sqlstate}, '0A000', '... feature_not_supported');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.asked", "question": "How many items are there?", "connections": ["shop1"]}');
is($status, 201, "a question's view: 201") or diag explain $body;
is($body->{question}, 'How many items are there?', '... its question kept');
($status, $body) = curl('-u', $alice, "$url/api/views/dash.asked/rows");
is_deeply([ map { "$_->{source_db} $_->{n}" } @$body ], [ 'shop1 100' ], '... its rows the planned answer');

($status, $body) = call($alice, 'POST', '/api/views/dash.asked/rebind', "$one/rebind", '{"replan": true}');
is($status, 200, "a question's view rebound with replan: 200, planned again");
is($body->{question}, 'How many items are there?', '... the same question');
($status, $body) = call($alice, 'POST', '/api/views/dash.counts/rebind', "$one/rebind", '{"replan": true}');
is($status, 400, "an SQL view rebound with replan: 400, it has no question");
is($body->{error}{sqlstate}, '0A000', '... feature_not_supported');

# 6. Errors.
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.q", "question": "How many items?", "session_id": "00000000-0000-0000-0000-000000000000"}');
is($status, 404, "a question's view in a session that is not the caller's: 404");
like($body->{error}{message}, qr/chat session/, '... naming the session');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.scheduled", "sql": "SELECT 1 AS one", "connections": ["shop1"], "schedule": "0 6 * * *"}');
is($status, 400, 'a scheduled view without pg_cron: 400');
like($body->{error}{hint}, qr/pg_cron/, '... the HINT on installing pg_cron');
is($coordinator->safe_psql('postgres', "SELECT to_regclass('dash.scheduled') IS NULL"), 't', '... and no view was made');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views', '{"name": "dash.x"}');
is($status, 400, 'neither question nor sql: 400');
is($body->{error}{field}, 'question', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views', '{"name": "dash.x", "question": "q", "sql": "SELECT 1"}');
is($status, 400, 'both question and sql: 400');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views', '{"name": "dash.x", "sql": "SELECT 1", "mode": "cached"}');
is($status, 400, 'an unknown mode: 400');
is($body->{error}{field}, 'mode', '... naming the field');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views', '{"name": "dash.x", "sql": "DELETE FROM items", "connections": ["shop1"]}');
is($status, 422, 'a view of a DELETE: 422, refused by the guard');
($status, $body) = call($alice, 'POST', '/api/views', '/api/views',
	'{"name": "dash.prices", "sql": "SELECT 1 AS one", "connections": ["shop1"]}');
is($status, 409, 'a name that is taken: 409');
is($body->{error}{sqlstate}, '42710', '... duplicate_object');
($status, $body) = call($alice, 'GET', '/api/views/dash.nothing', $one);
is($status, 404, 'an unknown view: 404');
is($body->{error}{sqlstate}, '42P01', '... with a SQLSTATE');
like($body->{error}{message}, qr/dash\.nothing/, '... a message naming the view');
like($body->{error}{hint}, qr{GET /api/views}, '... and a HINT');
($status, $body) = call($alice, 'GET', '/api/views/dash.nothing/rows', "$one/rows");
is($status, 404, "an unknown view's rows: 404");

# 7. Another role's view: 404; shared by GRANT SELECT, its rows are readable, the rest stays its owner's.
($status, $body) = call($bob, 'GET', '/api/views', '/api/views');
is_deeply($body, [], "bob's list holds none of alice's views");
for my $path ('', '/rows', '/check')
{
	($status, $body) = call($bob, 'GET', "/api/views/dash.prices$path", "$one$path");
	is($status, 404, "bob's GET /api/views/{view}$path of alice's view: 404");
}
($status, $body) = call($bob, 'POST', '/api/views/dash.prices/refresh', "$one/refresh", '{}');
is($status, 404, "bob refreshing alice's view: 404");
($status, $body) = call($bob, 'DELETE', '/api/views/dash.prices', $one);
is($status, 404, "bob dropping alice's view: 404");
$coordinator->safe_psql('postgres', 'SET ROLE alice; GRANT USAGE ON SCHEMA dash TO bob; GRANT SELECT ON dash.prices TO bob');
($status, $body) = curl('-u', $bob, "$url/api/views/dash.prices/rows");
is($status, 200, "shared with bob: alice's view's rows are his to read");
is(scalar @$body, 6, '... all of them');
($status, $body) = call($bob, 'POST', '/api/views/dash.prices/refresh', "$one/refresh", '{}');
is($status, 403, '... but refreshing it is 403');
is($body->{error}{sqlstate}, '42501', '... insufficient_privilege');
like($body->{error}{hint}, qr/owner/, '... the HINT saying whose it is');
($status, $body) = call($bob, 'DELETE', '/api/views/dash.prices', $one);
is($status, 403, '... and dropping it 403');
($status, $body) = call($bob, 'POST', '/api/views', '/api/views',
	q{{"name": "\"Bob's\".\"Mine\"", "sql": "SELECT 1 AS one", "connections": ["shop1"]}});
is($status, 201, "bob's own view in a schema whose name needs quoting: 201");
is($body->{view}, q{"Bob's"."Mine"}, '... named quoted');
($status, $body) = call($bob, 'GET', "/api/views/%22Bob's%22.%22Mine%22", $one);
is($status, 200, '... and found by that name');

# 8. Dropping.
($status, $body) = call($alice, 'DELETE', '/api/views/dash.prices', $one);
is($status, 204, 'DELETE /api/views/{view}: 204');
is($coordinator->safe_psql('postgres', "SELECT to_regclass('dash.prices') IS NULL"), 't', '... the view is gone');
($status, $body) = call($alice, 'GET', '/api/views/dash.prices', $one);
is($status, 404, '... and 404 after');
($status, $body) = call($alice, 'GET', '/api/views', '/api/views');
is_deeply([ map { $_->{view} } @$body ], [ 'dash.asked', 'dash.counts' ], "... alice's other views stay");

# 9. Every JSON answer against the OpenAPI document.
($status, my $doc) = curl("$url/api/openapi.json");
my ($checked, $check_err, @invalid) = check_answers($doc, \@answers);
is($check_err, '', 'the schema check ran');
cmp_ok($checked, '>=', 30, "... on $checked real answers");
is_deeply(\@invalid, [], '... all valid against the document');

$gateway->kill_kill;
done_testing();
