# multidb-web, the HTTP gateway, over real HTTP against real clusters: the seed's two curl workflows and its
# Python quick start as written (only host and port changed), each endpoint and error status, sign-in (Basic,
# the cookie, sign-out; wrong passwords answered late, the same for roles that do not exist, slowed per
# address), two roles who cannot see each other's sessions, SQL that tries to change the role never changing
# who the next request runs as, the cross-site 403, and the refusal to run as a superuser.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use MultidbLlm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote_a = start_remote('shop_a');
my $remote_b = start_remote('shop_b');
$remote_b->safe_psql('postgres', 'DELETE FROM items WHERE id > 40');
my $coordinator = start_coordinator();
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');

# Connections 1, 2 and 3 (ids in the order they were made): the seed's examples name them by id.
add_connection($coordinator, 'shop1', $remote_a);
add_connection($coordinator, 'shop2', $remote_b);
add_connection($coordinator, 'shop3', $remote_a);

# The set-up docs/security.md gives: a group of roles that may sign in, an authenticator that may become them.
$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
	CREATE ROLE carol LOGIN PASSWORD 'carol-pw';
	CREATE ROLE inheritor LOGIN PASSWORD 'inh-pw';
	GRANT alice, bob, carol TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
	GRANT USAGE ON FOREIGN SERVER shop1, shop2, shop3 TO alice, bob;
	CREATE USER MAPPING FOR alice SERVER shop1 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER shop2 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER shop3 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER shop1 OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER shop2 OPTIONS (user 'reader', password 'secret');
	ALTER ROLE alice SET multidb.max_repairs = 0;
});
# Passwords are checked by Postgres: every role but the test's superuser logs in with one.
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $count = sub { encode_json({ queries => [ map { { database => $_, sql => 'SELECT count(*) AS n FROM items' } } @_ ],
		explanation => 'Counts the items in each database.' }) };
my $llm = MultidbLlm->new(rules => [
		{ match => 'Compare total orders in both databases', reply => $count->('shop1', 'shop2') },
		{ match => 'Show all products', reply => encode_json({ queries => [ map { { database => $_,
				sql => 'SELECT id, name FROM items ORDER BY id LIMIT 2' } } qw(shop1 shop2 shop3) ] }) },
		{ match => 'Compare total sales in both databases', reply => encode_json({
				queries => [ map { { database => $_, sql => 'SELECT sum(price) AS sales FROM items' } } qw(shop1 shop2) ],
				combine => 'SELECT shop1.sales - shop2.sales AS difference FROM shop1, shop2',
				explanation => 'Sales per database and their difference.' }) },
		{ match => 'How many items', reply => $count->('shop1') },
		{ match => 'reset my role', reply => encode_json({ queries => [ { database => 'shop1', sql => 'RESET ROLE' } ] }) },
		{ match => 'set my role', reply => encode_json({ queries => [ { database => 'shop1',
				sql => q{SELECT set_config('role', 'postgres', false)} } ] }) },
		{ match => 'session authorization', reply => encode_json({ queries => [ { database => 'shop1',
				sql => "SET SESSION AUTHORIZATION $superuser" } ] }) },
		{ match => 'missing table', reply => encode_json({ queries => [ { database => 'shop1', sql => 'SELECT * FROM nope' } ] }) },
		{ match => 'slowly', delay => 3, reply => $count->('shop1') } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice, bob;");

my $program = gateway_program();
my $socket = $coordinator->host;
my $pgport = $coordinator->port;
my $conninfo = "host=$socket port=$pgport dbname=postgres user=authenticator password=authpw";

# Starts a gateway with these flags; returns its handle, base URL and stderr.
sub start_gateway
{
	my $g = launch_gateway(flags => [@_]);
	return ($g->{handle}, $g->{url}, $g->{err});
}

# 1. The authenticator must be fit: a superuser or an inheriting role is refused at start.
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ $program, '--listen', '127.0.0.1:1', '--database', "host=$socket port=$pgport dbname=postgres user=$superuser" ],
		'>', \$out, '2>', \$err);
	isnt($? >> 8, 0, 'multidb-web refuses to run logged in as a superuser');
	like($err, qr/is a superuser: refusing to run/, '... saying why');
	$coordinator->safe_psql('postgres', q{ALTER ROLE inheritor INHERIT});
	IPC::Run::run([ $program, '--listen', '127.0.0.1:1', '--database', "host=$socket port=$pgport dbname=postgres user=inheritor password=inh-pw" ],
		'>', \$out, '2>', \$err);
	like($err, qr/inherits the privileges.*NOINHERIT/, 'and an authenticator that INHERITs');
	IPC::Run::run([ $program, '--listen', '127.0.0.1:1', '--trust-local', 'carol', '--database',
		"host=$socket port=$pgport dbname=postgres user=authenticator password=authpw" ], '>', \$out, '2>', \$err);
	like($err, qr/--trust-local: role "carol" may not sign in here/, '--trust-local of a role outside multidb_web is refused at start');
	IPC::Run::run([ $program, '--help' ], '>', \$out, '2>', \$err);
	like($out, qr/--listen.*--database.*--pool-size.*--session-ttl.*--trust-local.*--tls-cert.*--tls-key/s, '--help lists the flags');
}

my ($gateway, $url, $gateway_err) = start_gateway('--database', $conninfo, '--pool-size', '1', '--auth-delay', '300',
	'--pool-timeout', '500', '--max-body', '4096');
my ($status, $body, $headers) = curl("$url/api/health");
is($status, 200, 'GET /api/health: 200');
is($body->{coordinator}, 'up', '... the coordinator answers');

# 2. Who is asking.
($status, $body, $headers) = curl("$url/api/chat/sessions");
is($status, 401, 'no credentials: 401');
like($headers, qr/WWW-Authenticate: Basic realm="multidb"/i, '... with WWW-Authenticate');
ok(exists $body->{error}{message} && exists $body->{error}{hint}, '... and a JSON error');
my $t0 = time;
my ($wrong) = curl('-u', 'alice:wrong', "$url/api/chat/sessions");
my $wrong_ms = (time - $t0) * 1000;
my ($s_missing, $b_missing) = curl('-u', 'nobody:wrong', "$url/api/chat/sessions");
($status, $body) = curl('-u', 'alice:wrong', "$url/api/chat/sessions");
is($wrong, 401, 'wrong password: 401');
cmp_ok($wrong_ms, '>=', 290, '... after the fixed delay');
is($s_missing, 401, 'a role that does not exist: 401');
is_deeply($b_missing, $body, '... the same answer as a wrong password');
curl('-u', 'alice:wrong', "$url/api/chat/sessions");
$t0 = time;
($status) = curl('-u', 'alice:wrong', "$url/api/chat/sessions");
cmp_ok((time - $t0) * 1000, '>=', 750, 'repeated failures from one address are slowed');
is($status, 401, '... and still 401');
($status, $body) = curl('-H', 'Authorization: Bearer x', "$url/api/chat/sessions");
is($status, 401, 'credentials that are not Basic: 401');
($status, $body) = curl('-u', 'carol:carol-pw', "$url/api/chat/sessions");
is($status, 403, 'a role that is no member of multidb_web: 403');
like($body->{error}{message}, qr/may not sign in here/, '... saying so');
($status, $body) = curl('-u', 'alice:alice-pw', "$url/api/health");
is($body->{role}, 'alice', 'Basic: the request runs as alice');
is($body->{authenticator}, 'authenticator', '... through the authenticator');

# 3. Endpoints as alice (Basic).
my @alice = ('-u', 'alice:alice-pw', '-H', 'Content-Type: application/json');
my @bob = ('-u', 'bob:bob-pw', '-H', 'Content-Type: application/json');
($status, $body) = curl(@alice, "$url/api/connections");
is($status, 200, 'GET /api/connections');
is_deeply([ map { "$_->{id}:$_->{name}" } @$body ], [ '1:shop1', '2:shop2', '3:shop3' ], '... ids in the order made');
unlike(encode_json($body), qr/secret/, '... never a password');
($status, $body) = curl(@alice, "$url/api/connections/shop1/schema");
is($status, 200, 'GET /api/connections/{name}/schema');
ok((grep { $_->{name} =~ /items/ } @{ $body->{objects} }), '... lists the remote table');
($status, $body) = curl(@alice, "$url/api/connections/nope/schema");
is($status, 404, '... of a connection that does not exist: 404');

($status, $body) = curl(@alice, '-X', 'POST', "$url/api/chat/sessions", '-d', '{"name": "Mine", "connection_ids": [1, "shop2"]}');
is($status, 201, 'POST /api/chat/sessions: 201');
is_deeply($body->{connection_ids}, [ 'shop1', 'shop2' ], '... ids and names both accepted');
my $session = $body->{id};
($status, $body) = curl(@alice, "$url/api/chat/sessions");
is(scalar(grep { $_->{id} eq $session } @$body), 1, 'GET /api/chat/sessions lists it');
($status, $body) = curl(@alice, '-X', 'PATCH', "$url/api/chat/sessions/$session", '-d', '{"name": "Renamed", "attach": [3], "detach": ["shop2"]}');
is($status, 200, 'PATCH renames, attaches and detaches');
is($body->{name}, 'Renamed', '... renamed');
is_deeply($body->{connection_ids}, [ 'shop1', 'shop3' ], '... attached and detached');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/chat/sessions/$session/messages", '-d', '{"question": "How many items?"}');
is($status, 201, 'POST …/messages asks in the session');
is($body->{database_results}[0]{row_count}, 1, '... with database_results');
is($body->{database_results}[0]{rows}[0]{n}, 100, '... and their rows');
($status, $body) = curl(@alice, "$url/api/chat/sessions/$session/messages");
is_deeply([ map { $_->{role} } @$body ], [ 'user', 'assistant' ], 'GET …/messages: the conversation');
ok($body->[1]{query_history_id}, '... linked to the history');

# 4. Two roles: another role's session is 404 everywhere.
for my $request ([ 'GET', '' ], [ 'PATCH', '', '{"name": "x"}' ], [ 'DELETE', '' ], [ 'GET', '/messages' ],
	[ 'POST', '/messages', '{"question": "How many items?"}' ])
{
	my ($method, $tail, $data) = @$request;
	($status, $body) = curl(@bob, '-X', $method, "$url/api/chat/sessions/$session$tail", defined $data ? ('-d', $data) : ());
	is($status, 404, "bob's $method /api/chat/sessions/{alice's}$tail: 404");
}
($status, $body) = curl(@bob, '-X', 'POST', "$url/api/multi-query/", '-d', qq({"question": "How many items?", "chat_session_id": "$session"}));
is($status, 404, "bob's multi-query in alice's session: 404");
($status, $body) = curl(@bob, "$url/api/chat/sessions");
is_deeply($body, [], "bob's list does not show alice's session");

# 5. Error statuses.
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/chat/sessions", '-d', '{"name": "x", "connection_ids": "shop1"}');
is($status, 400, 'a malformed field: 400');
is($body->{error}{field}, 'connection_ids', '... naming the field');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/chat/sessions", '-d', '{"name": ');
is($status, 400, 'a body that is not JSON: 400');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/multi-query/", '-d', '{"question": "How many items?", "connection_ids": [9]}');
is($status, 404, 'an unknown connection id: 404');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/chat/sessions", '-d', '{"name": "x", "connection_ids": ["shop1", "shop1"]}');
is($status, 409, 'a connection named twice: 409');
is($body->{error}{sqlstate}, '42710', '... with its SQLSTATE');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/multi-query/", '-d', '{"question": "' . ('x' x 5000) . '"}');
is($status, 413, 'a body larger than --max-body: 413');
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/multi-query/", '-d', '{"question": "What is in the missing table?", "connection_ids": ["shop1"]}');
is($status, 502, 'a remote that fails: 502');
is($body->{error}{database}, 'shop1', '... naming the database');
is($body->{error}{sqlstate}, '42P01', '... with the remote SQLSTATE');
# (alice's ALTER ROLE … SET multidb.max_repairs = 0 applies over HTTP too: with the default, the failure would
# have gone back to the scripted LLM for a repair, which has no reply for it: 39000.)
($status, $body) = curl(@alice, '-H', 'X-Big-1: ' . ('a' x 5000), '-H', 'X-Big-2: ' . ('b' x 5000), "$url/api/connections");
is($status, 431, 'headers larger than --max-header: 431');
($status, $body) = curl(@alice, "$url/api/chat/sessions/00000000-0000-0000-0000-000000000000");
is($status, 404, 'a session that does not exist: 404');
($status, $body) = curl(@alice, "$url/api/nothing");
is($status, 404, 'an unknown path: 404');
ok(exists $body->{error}, '... as JSON');
# 504: a slow ask holds the only coordinator connection; the next request waits --pool-timeout for it.
my $slow = IPC::Run::start([ 'curl', '-s', @alice, '-X', 'POST', "$url/api/multi-query/", '-d',
		'{"question": "Count slowly", "connection_ids": ["shop1"]}' ], '>', \my $slow_out);
usleep(700_000);
($status, $body) = curl(@alice, "$url/api/chat/sessions");
is($status, 504, 'no coordinator connection free within --pool-timeout: 504');
$slow->finish;
like($slow_out, qr/"row_count":1/, '... and the slow ask still answered');

# 6. The escape attempts: SQL that would change the role never runs here, and the next request is still the
# caller's own (one coordinator connection: the same backend serves them all).
for my $question ('Please reset my role', 'Please set my role', 'Set the session authorization')
{
	($status, $body) = curl(@alice, '-X', 'POST', "$url/api/multi-query/", '-d', qq({"question": "$question", "connection_ids": ["shop1"]}));
	is($status, 422, "\"$question\": refused by the guard, 422");
	($status, $body) = curl('-u', 'bob:bob-pw', "$url/api/health");
	is($body->{role}, 'bob', '... and the next request runs as its own caller');
}
($status, $body) = curl(@alice, '-X', 'POST', "$url/api/multi-query/", '-d',
	q{{"question": "How many items?'); RESET ROLE; SET ROLE postgres; SELECT set_config('role', 'postgres', false); --", "connection_ids": ["shop1"]}});
($status, $body) = curl('-u', 'bob:bob-pw', "$url/api/health");
is($body->{role}, 'bob', 'a question holding RESET ROLE is only a parameter');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'authenticator'}), '1',
	'the gateway holds its one coordinator connection');

# 7. Browser sign-in: the cookie, the same-origin check, sign-out.
($status, $body, $headers) = curl('-X', 'POST', "$url/api/auth/login", '-d', '{"role": "alice", "password": "alice-pw"}');
is($status, 200, 'POST /api/auth/login');
my ($cookie) = $headers =~ /Set-Cookie: (multidb_session=[0-9a-f]{64})/i;
ok($cookie, '... sets the session cookie');
like($headers, qr/Set-Cookie: [^\r\n]*HttpOnly; SameSite=Strict/i, '... HttpOnly; SameSite=Strict');
($status, $body) = curl('-b', $cookie, "$url/api/auth/me");
is($body->{role}, 'alice', 'the cookie is alice');
($status, $body) = curl('-b', $cookie, '-X', 'POST', "$url/api/chat/sessions", '-H', 'Origin: http://evil.example',
	'-d', '{"name": "csrf", "connection_ids": ["shop1"]}');
is($status, 403, 'a cross-site POST with the cookie: 403');
($status, $body) = curl('-b', $cookie, '-X', 'POST', "$url/api/chat/sessions", '-H', 'Sec-Fetch-Site: cross-site',
	'-d', '{"name": "csrf", "connection_ids": ["shop1"]}');
is($status, 403, '... also told by Sec-Fetch-Site');
($status, $body) = curl('-b', $cookie, '-X', 'POST', "$url/api/chat/sessions", '-d', '{"name": "csrf", "connection_ids": ["shop1"]}');
is($status, 403, '... and without Origin or the CSRF header');
(my $origin = $url) =~ s{/$}{};
($status, $body) = curl('-b', $cookie, '-X', 'POST', "$url/api/chat/sessions", '-H', "Origin: $origin",
	'-d', '{"name": "same-origin", "connection_ids": ["shop1"]}');
is($status, 201, 'a same-origin POST with the cookie: 201');
($status, $body) = curl('-b', $cookie, '-X', 'POST', "$url/api/auth/logout", '-H', "Origin: $origin", '-d', '');
is($status, 204, 'sign-out: 204');
($status, $body) = curl('-b', $cookie, "$url/api/auth/me");
is($status, 401, '... and the cookie no longer works');
($status, $body) = curl('-X', 'POST', "$url/api/auth/login", '-d', '{"role": "alice", "password": "nope"}');
is($status, 401, 'sign-in with a wrong password: 401');
($status, $body) = curl('-X', 'POST', "$url/api/auth/login", '-d', '{"role": "alice"}');
is($status, 400, 'sign-in without a password: 400');

# 8. 503 while the coordinator is down, and back by itself.
$coordinator->stop('fast');
($status, $body) = curl("$url/api/health");
is($status, 503, 'the coordinator down: /api/health 503');
($status, $body) = curl(@alice, "$url/api/chat/sessions");
is($status, 503, '... and a sign-in that cannot be checked is 503 too, not a wrong password\'s 401');
$coordinator->start;
($status, $body) = curl(@alice, "$url/api/chat/sessions");
is($status, 200, 'the coordinator back: served again without a restart of the gateway');
# A restart between two requests: the pooled connection it ended is noticed before use and made anew.
$coordinator->restart;
($status, $body) = curl(@alice, "$url/api/chat/sessions");
is($status, 200, 'a request right after a coordinator restart is served');
$gateway->kill_kill;

# 9. HTTPS with --tls-cert/--tls-key: the cookie is Secure, the own origin https.
my $certdir = PostgreSQL::Test::Utils::tempdir();
system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $certdir/key.pem -out $certdir/cert.pem -days 1 -subj /CN=127.0.0.1 2>/dev/null") == 0
  or die 'openssl could not make a certificate';
my ($tls, $tls_url) = start_gateway('--database', $conninfo, '--tls-cert', "$certdir/cert.pem", '--tls-key', "$certdir/key.pem");
($status, $body, $headers) = curl('-k', '-X', 'POST', "$tls_url/api/auth/login", '-d', '{"role": "bob", "password": "bob-pw"}');
is($status, 200, 'HTTPS: sign-in');
like($headers, qr/Set-Cookie: [^\r\n]*HttpOnly; SameSite=Strict[^\r\n]*; Secure/i, '... the cookie is Secure');
($cookie) = $headers =~ /Set-Cookie: (multidb_session=[0-9a-f]{64})/i;
($status) = curl('-k', '-b', $cookie, '-X', 'POST', "$tls_url/api/chat/sessions", '-H', 'Origin: ' . ($tls_url =~ s/^https/http/r),
	'-d', '{"name": "tls", "connection_ids": ["shop1"]}');
is($status, 403, '... and an http:// origin is another site');
($status) = curl('-k', '-b', $cookie, '-X', 'POST', "$tls_url/api/chat/sessions", '-H', "Origin: $tls_url",
	'-d', '{"name": "tls", "connection_ids": ["shop1"]}');
is($status, 201, '... the https:// one is its own');
$tls->kill_kill;

# 10. The seed's workflows and Python quick start, as written: one person's gateway on a laptop
# (--trust-local), so they need no credentials; --database from its environment variable this time.
my ($local, $local_url, $local_err);
{
	local $ENV{MULTIDB_WEB_DATABASE} = $conninfo;
	($local, $local_url, $local_err) = start_gateway('--trust-local', 'alice');
}
like($$local_err, qr/WARNING: --trust-local/, '--trust-local warns at start');
(my $hostport = $local_url) =~ s{^http://}{};

# Workflow 1: create a session with 2 databases, then query across both.
my $out = `curl -s -X POST http://$hostport/api/chat/sessions \\
  -H "Content-Type: application/json" \\
  -d '{"name": "Analysis", "connection_ids": [1, 2]}'`;
my $created = decode_json($out);
like($created->{id}, qr/^[0-9a-f-]{36}$/, 'workflow 1, step 1: the session is created');
is($created->{name}, 'Analysis', '... named');
my $id = $created->{id};
$out = `curl -s -X POST http://$hostport/api/multi-query/ \\
  -H "Content-Type: application/json" \\
  -d '{
    "question": "Compare total orders in both databases",
    "chat_session_id": "$id"
  }'`;
my $answer = decode_json($out);
is_deeply([ map { $_->{connection_name} } @{ $answer->{database_results} } ], [ 'shop1', 'shop2' ],
	'workflow 1, step 2: results from both databases');
is_deeply([ map { $_->{rows}[0]{n} } @{ $answer->{database_results} } ], [ 100, 40 ], '... each its own rows');
is($answer->{database_results}[0]{sql}, 'SELECT count(*) AS n FROM items', '... with separate SQL');
ok(defined $answer->{database_results}[0]{execution_time_ms}, '... and timings');
is($answer->{database_results}[0]{columns}[0]{name}, 'n', '... and columns');
is($answer->{explanation}, 'Counts the items in each database.', '... the explanation');
ok($answer->{query_history_id} > 0, '... the history id');

# Workflow 2: a direct query without a session.
$out = `curl -s -X POST http://$hostport/api/multi-query/ \\
  -H "Content-Type: application/json" \\
  -d '{
    "question": "Show all products",
    "connection_ids": [1, 2, 3]
  }'`;
$answer = decode_json($out);
is_deeply([ map { $_->{connection_name} . '=' . $_->{row_count} } @{ $answer->{database_results} } ],
	[ 'shop1=2', 'shop2=2', 'shop3=2' ], 'workflow 2: three databases without a session');

# The Python quick start (its body as the seed gives it, inside an async main so that it runs).
my $python = <<"PY";
import asyncio

async def main():
    # 1. Import the client
    import httpx

    # 2. Create a chat session
    async with httpx.AsyncClient() as client:
        session_response = await client.post(
            "http://$hostport/api/chat/sessions",
            json={
                "name": "My Analysis",
                "connection_ids": [1, 2]  # Your database connection IDs
            }
        )
        session = session_response.json()

        # 3. Query across multiple databases
        query_response = await client.post(
            "http://$hostport/api/multi-query/",
            json={
                "question": "Compare total sales in both databases",
                "chat_session_id": session["id"]
            }
        )
        results = query_response.json()

        # 4. View results per database
        for db_result in results["database_results"]:
            print(f"{db_result['connection_name']}: {db_result['row_count']} rows")
        print("combined:", results["combined"]["rows"])

asyncio.run(main())
PY
my ($py_out, $py_err) = ('', '');
IPC::Run::run([ '/usr/bin/python3', '-c', $python ], '>', \$py_out, '2>', \$py_err);
is($py_out, "shop1: 1 rows\nshop2: 1 rows\ncombined: [{'difference': 6345.0}]\n", 'the Python quick start runs as written')
	or diag($py_err);
$local->kill_kill;

done_testing();
