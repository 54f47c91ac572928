# multidb.ask end to end: real remote servers, the scripted LLM over real HTTP, sessions, history, caches.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $production = start_remote('production');
my $backup = start_remote('backup');
for my $node ($production, $backup)
{
	$node->safe_psql('postgres', q{
		CREATE TABLE orders (id int PRIMARY KEY, placed_at date NOT NULL, total numeric(10,2) NOT NULL);
		COMMENT ON TABLE orders IS 'one purchase';
		INSERT INTO orders SELECT g, date '2023-12-25' + g, 10 * g FROM generate_series(1, 20) g;
		GRANT SELECT ON orders TO reader;
	});
}
$backup->safe_psql('postgres', 'DELETE FROM orders WHERE id > 18');
# Preloaded, so that a session's history writer is kept between its asks (the check of one session asking as two roles).
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'multidb'\n");
add_connection($coordinator, 'production', $production);
add_connection($coordinator, 'backup', $backup);

sub plan_reply
{
	my ($explanation, @steps) = @_;
	my @queries;
	while (my ($database, $sql) = splice(@steps, 0, 2)) { push @queries, { database => $database, sql => $sql }; }
	return encode_json({ queries => \@queries, explanation => $explanation });
}
my $revenue = 'SELECT sum(total) AS revenue FROM orders';
my @attacks = (
	'DELETE FROM orders', 'UPDATE orders SET total = 0', 'INSERT INTO orders VALUES (99, now(), 1)',
	'SELECT 1; DELETE FROM orders', 'WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d',
	'SELECT * INTO stolen FROM orders', 'SELECT * FROM orders FOR UPDATE', 'TRUNCATE orders',
	'GRANT ALL ON orders TO PUBLIC', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity',
	"SELECT pg_read_file('postgresql.conf')", "SELECT set_config('default_transaction_read_only', 'off', false)");

my $llm = MultidbLlm->new(
	rules => [
		{ match => 'Compare total revenue', reply => plan_reply('Revenue on each side.', production => $revenue, backup => $revenue) },
		{ match => 'revenue only in production', reply => plan_reply('Production only.', production => $revenue) },
		{ match => 'How many orders',
		  reply => "Here you go.\nDATABASE: production\n```sql\nSELECT count(*) AS orders FROM orders;\n```\nDATABASE: BACKUP\n```\nSELECT count(*) AS orders FROM orders\n```" },
		{ match => 'newest order', reply => "```json\n" . plan_reply('Newest.', backup => 'SELECT max(id) AS newest FROM orders') . "\n```" },
		# the follow-up only makes sense after the revenue question: the stub sees the history or not
		{ match => 'and only for 2024?', after_error => 'Compare total revenue',
		  reply => plan_reply('2024 only.', production => "$revenue WHERE placed_at >= '2024-01-01'",
		                      backup => "$revenue WHERE placed_at >= '2024-01-01'") },
		{ match => 'and only for 2024?', reply => 'Which question do you mean?' },
		# self-correction: the repair request carries the remote error
		{ match => 'column "amount" does not exist',
		  reply => plan_reply('Fixed.', production => 'SELECT round(avg(total), 2) AS average FROM orders') },
		{ match => 'average order', reply => plan_reply('Average.', production => 'SELECT avg(amount) AS average FROM orders') },
		{ match => 'server error please', status => 500, raw => '{"error": {"message": "the model is overloaded"}}' },
		{ match => 'slow question', delay => 4, reply => plan_reply('late', production => 'SELECT 1') },
		{ match => 'garbage please', reply => 'I think the answer is 42.' },
		{ match => 'partial please', reply => plan_reply('x', production => $revenue, backup => 'SELECT nope FROM orders') },
		{ match => 'ask staging', reply => plan_reply('x', staging => 'SELECT 1') },
		{ match => 'odd name please', reply => plan_reply('odd', 'odd"name\\' => $revenue) },
		{ match => 'orders above a million', reply => plan_reply('None.', production => 'SELECT id FROM orders WHERE total > 1000000') },
		{ match => 'last three orders by id', reply => plan_reply('Newest first.', production => 'SELECT id FROM orders ORDER BY id DESC LIMIT 3') },
		(map { { match => "attack $_", reply => plan_reply('attack', production => $attacks[$_]) } } 0 .. $#attacks),
	],
	default => 'no scripted reply');

$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '2s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test-SECRET-key');");

my $session = $coordinator->safe_psql('postgres',
	"SELECT multidb.create_session('Analysis', ARRAY['production', 'backup'])");
like($session, qr/^[0-9a-f-]{36}$/, 'create_session returns the session id');

sub ask
{
	my ($question, %opts) = @_;
	my $scope = $opts{connections} ? "connections => ARRAY[$opts{connections}]" : "session => '$session'";
	(my $quoted = $question) =~ s/'/''/g;
	return $coordinator->psql('postgres',
		($opts{setup} // '') . "SELECT source_db, row_data FROM multidb.ask('$quoted', $scope)",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
}

my ($ret, $stdout, $stderr) = ask('Compare total revenue in production and backup');
is($stdout, "production|{\"revenue\": 2100.00}\nbackup|{\"revenue\": 1710.00}", 'ask: rows from both, tagged');

($ret, $stdout, $stderr) = ask('Show revenue only in production');
is($stdout, 'production|{"revenue": 2100.00}', 'the LLM may route to a subset');

($ret, $stdout, $stderr) = ask('How many orders are there?');
is($stdout, "production|{\"orders\": 20}\nbackup|{\"orders\": 18}", 'the plain DATABASE: form with fences, names matched case-insensitively');

($ret, $stdout, $stderr) = ask('Which is the newest order?');
is($stdout, 'backup|{"newest": 18}', 'a fenced JSON reply');

($ret, $stdout, $stderr) = ask('and only for 2024?');
is($stdout, "production|{\"revenue\": 1890.00}\nbackup|{\"revenue\": 1500.00}", 'a follow-up that needs the history works in the session');
($ret, $stdout, $stderr) = ask('and only for 2024?', connections => "'production'");
like($stderr, qr/ERROR:  39000: .*Which question do you mean/, 'the same follow-up without history gets an unusable reply, quoted');
like($stderr, qr/production/, 'and the error lists the attached databases');

($ret, $stdout, $stderr) = ask('What is the average order?');
is($stdout, 'production|{"average": 105.00}', 'self-correction: the remote error went back to the LLM and the repaired SQL ran');
my $repair = $coordinator->safe_psql('postgres',
	"SELECT status, jsonb_array_length(attempts), attempts->0->'failures'->0->>'error' LIKE '%amount%' "
	  . "FROM multidb.query_history WHERE question = 'What is the average order?'");
is($repair, 'ok|2|t', 'history keeps both attempts');

($ret, $stdout, $stderr) = ask('server error please');
like($stderr, qr/ERROR:  38000: .*openai.*500.*the model is overloaded/, 'LLM HTTP 500: an ERROR naming the provider, status and body');
unlike($stderr, qr/SECRET/, 'the key is in no message');

my $start = time;
($ret, $stdout, $stderr) = ask('slow question');
like($stderr, qr/ERROR:  38000: .*no answer within 2000 ms/, 'LLM timeout: the server option timeout ends the wait');

# Ctrl-C and statement_timeout stop a slow LLM call at once (libcurl polls for interrupts).
$start = time;
($ret, $stdout, $stderr) = ask('slow question', setup => "SET statement_timeout = '500ms'; ");
like($stderr, qr/canceling statement due to statement timeout/, 'the caller\'s statement_timeout stops a slow LLM call');
cmp_ok(time - $start, '<', 3.5, sprintf('before the LLM would have answered (4 s): %.2f s', time - $start));

# The Anthropic protocol, chosen with multidb.llm_server.
$coordinator->safe_psql('postgres', "
	CREATE SERVER claude FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'anthropic', url 'http://127.0.0.1:" . $llm->port . "', model 'claude-stub');
	CREATE USER MAPPING FOR PUBLIC SERVER claude OPTIONS (api_key 'sk-ant-test');");
($ret, $stdout, $stderr) = ask('How many orders are there in all?', setup => "SET multidb.llm_server = 'claude'; ",
	connections => "'production', 'backup'");
is($stdout, "production|{\"orders\": 20}\nbackup|{\"orders\": 18}", 'an ask through the Anthropic protocol');
my ($anthropic) = grep { $_->{path} eq '/v1/messages' } $llm->requests;
ok($anthropic && $anthropic->{auth} eq 'sk-ant-test' && $anthropic->{body}{system} =~ /production/,
	'sent to /v1/messages with x-api-key and the rules as the system prompt');
$coordinator->safe_psql('postgres', 'DROP SERVER claude CASCADE');

# on_error = warn: the databases that answered still answer; the ask is recorded as partial.
($ret, $stdout, $stderr) = ask('partial please', setup => "SET multidb.on_error = warn; SET multidb.max_repairs = 0; ");
is($stdout, 'production|{"revenue": 2100.00}', 'warn mode: the rows of the database that answered');
like($stderr, qr/WARNING:  .*connection "backup": column "nope" does not exist/, 'and a WARNING for the one that failed');
is($coordinator->safe_psql('postgres', "SELECT status FROM multidb.query_history WHERE question = 'partial please'"),
	'partial', 'recorded as partial');

($ret, $stdout, $stderr) = ask('garbage please');
like($stderr, qr/ERROR:  39000: .*I think the answer is 42/, 'garbage: the reply is quoted');

($ret, $stdout, $stderr) = ask('ask staging');
like($stderr, qr/ERROR:  39000: .*"staging".*production, backup/s, 'an unknown database: named, with the attached ones');

my $before = join '|', map { $_->safe_psql('postgres', q{SELECT md5(string_agg(id || ':' || total, ',' ORDER BY id)) FROM orders}) } $production, $backup;
for my $i (0 .. $#attacks)
{
	($ret, $stdout, $stderr) = ask("attack $i");
	like($stderr, qr/ERROR:  (42501|42601): multidb refused the LLM's statement for connection "production"/, "refused: $attacks[$i]");
}
my $after = join '|', map { $_->safe_psql('postgres', q{SELECT md5(string_agg(id || ':' || total, ',' ORDER BY id)) FROM orders}) } $production, $backup;
is($after, $before, 'remote data unchanged after every attack');
is($coordinator->safe_psql('postgres',
	"SELECT count(*) FROM multidb.query_history WHERE question LIKE 'attack %' AND status = 'refused' AND error LIKE 'multidb refused%'"),
	scalar(@attacks), 'each refusal has its history row');

# History survives failed asks, with their messages.
is($coordinator->safe_psql('postgres',
	"SELECT status || ':' || (error LIKE '%overloaded%') FROM multidb.query_history WHERE question = 'server error please'"),
	'error:true', 'a failed ask keeps its history row with the error');
is($coordinator->safe_psql('postgres',
	"SELECT string_agg(m.role, ',' ORDER BY m.id) FROM multidb.chat_messages m JOIN multidb.query_history h ON h.id = m.query_id "
	  . "WHERE h.question = 'server error please'"),
	'user,assistant', 'and its user and assistant messages');

# The plan cache: the same question on the same connections does not call the LLM again.
my $requests_before = scalar($llm->requests);
my $hits = q{SELECT coalesce(sum(hits), 0) FROM multidb.plan_cache};
($ret, $stdout, $stderr) = ask('Compare total revenue once more', connections => "'production', 'backup'");
my $hits_before = $coordinator->safe_psql('postgres', $hits);
# The history writer counts a cached ask's hit once the ask has its answer, in a transaction of its own: looked at until
# the count arrives.
sub hits_reach {
	my ($count) = @_;
	return $coordinator->poll_query_until('postgres', "SELECT ($hits) >= $count") ? $coordinator->safe_psql('postgres', $hits) : 'never';
}
($ret, $stdout, $stderr) = ask('Compare total revenue once more', connections => "'production', 'backup'");
is($stdout, "production|{\"revenue\": 2100.00}\nbackup|{\"revenue\": 1710.00}", 'a cached plan gives the same rows');
is(scalar($llm->requests) - $requests_before, 1, 'the second ask did not call the LLM');
# In a transaction of the caller's, a cached ask writes nothing there, so takes no transaction id (its hit is counted
# by the history writer, after its record).
is($coordinator->safe_psql('postgres', "BEGIN; SELECT count(*) FROM multidb.ask('Compare total revenue once more', "
	  . "connections => ARRAY['production', 'backup']); SELECT pg_current_xact_id_if_assigned() IS NULL; COMMIT;"),
	"2\nt", '... and, asked again inside a transaction, took no transaction id there (it wrote nothing)');
is(hits_reach($hits_before + 2), $hits_before + 2, '... while its hits were counted, one per cached ask');
# A cached question planned (multidb.plan counts its hit in the caller's transaction, which then holds the row until
# the commit) and then asked twice in the same transaction: the first ask's hit is counted by the history writer, which
# the second ask's record waits behind, so the writer must not wait for that row.
is($coordinator->safe_psql('postgres', "SET statement_timeout = '20s'; BEGIN; "
	  . "SELECT count(*) FROM multidb.plan('Compare total revenue once more', connections => ARRAY['production', 'backup']); "
	  . "SELECT count(*) FROM multidb.ask('Compare total revenue once more', connections => ARRAY['production', 'backup']); "
	  . "SELECT count(*) FROM multidb.ask('Compare total revenue once more', connections => ARRAY['production', 'backup']); "
	  . 'COMMIT;'), "2\n2\n2", 'a cached question planned, then asked twice, in one transaction: the asks answer');
# The asks' hits are skipped while the transaction holds the row, and counted when the writer comes after its commit.
my $hits_after = hits_reach($hits_before + 3);
ok($hits_after ne 'never' && $hits_after <= $hits_before + 5, "... the plan's hit counted, and no more than one per ask ($hits_after)");
is($coordinator->safe_psql('postgres',
	"SELECT string_agg(coalesce(cached, 'none'), ',' ORDER BY id) FROM multidb.query_history "
	  . "WHERE question = 'Compare total revenue once more'"),
	'none,plan,plan,plan,plan', 'query_history says the plan cache served every ask after the first');
is($coordinator->safe_psql('postgres', q{SELECT count(*) > 0 AND bool_and(key ~ '^[0-9a-f]{64}$') FROM multidb.plan_cache}),
	't', 'plan cache keys are SHA-256 (hex)');
# A connection name with " and \ is stored as that one name, element by element, not spliced into a literal.
$coordinator->safe_psql('postgres', 'CREATE SERVER "odd""name\" FOREIGN DATA WRAPPER multidb OPTIONS '
	  . "(host '127.0.0.1', port '" . $production->port . "', dbname 'postgres'); "
	  . q{CREATE USER MAPPING FOR CURRENT_USER SERVER "odd""name\" OPTIONS (user 'reader', password 'secret')});
($ret, $stdout, $stderr) = ask('odd name please', connections => q{E'odd"name\\\\'});
is($stdout, qq{odd"name\\|{"revenue": 2100.00}}, 'an ask through a connection named odd"name\\') or diag($stderr);
is($coordinator->safe_psql('postgres', q{SELECT connections = ARRAY[E'odd"name\\\\'] FROM multidb.plan_cache WHERE plan::text LIKE '%odd%'}),
	't', 'the plan cache keeps that name exactly');

# The result cache (opt-in): the same plan's rows come back without touching the remotes.
my $cached_revenue = "SET multidb.result_cache_ttl = '1h'; ";
($ret, $stdout, $stderr) = ask('Show revenue only in production', setup => $cached_revenue);
is($stdout, 'production|{"revenue": 2100.00}', 'result cache: the first ask runs');
$production->safe_psql('postgres', 'UPDATE orders SET total = total + 1 WHERE id = 1');
($ret, $stdout, $stderr) = ask('Show revenue only in production', setup => $cached_revenue);
is($stdout, 'production|{"revenue": 2100.00}', 'the second is served from the cache (the remote has changed since)');
is($coordinator->safe_psql('postgres',
	"SELECT cached FROM multidb.query_history WHERE question = 'Show revenue only in production' ORDER BY id DESC LIMIT 1"),
	'result', 'and query_history says so');
($ret, $stdout, $stderr) = ask('Show revenue only in production');
is($stdout, 'production|{"revenue": 2101.00}', 'without the setting, the remote answers');
$coordinator->safe_psql('postgres', 'SELECT multidb.clear_cache()');
($ret, $stdout, $stderr) = ask('Show revenue only in production', setup => $cached_revenue);
is($stdout, 'production|{"revenue": 2101.00}', 'clear_cache() forgets cached results');
$production->safe_psql('postgres', 'UPDATE orders SET total = total - 1 WHERE id = 1');

# An empty result is cached as one too, and cached rows come back in the order they were first returned.
for my $question ('orders above a million', 'last three orders by id')
{
	my @answers = map { (ask($question, setup => $cached_revenue))[1] } 1 .. 2;
	is($answers[1], $answers[0], "result cache, $question: the same rows the second time ('$answers[0]')");
	is($coordinator->safe_psql('postgres',
		"SELECT string_agg(coalesce(cached, 'none'), ',' ORDER BY id) FROM multidb.query_history WHERE question = '$question'"),
		'none,result', '... and the second came from the cache');
}
is((ask('last three orders by id', setup => $cached_revenue))[1],
	"production|{\"id\": 20}\nproduction|{\"id\": 19}\nproduction|{\"id\": 18}", 'in the order the remote returned them');

# What was sent: the key as a bearer token, the question verbatim and last, the schema with database names.
my ($last) = grep { $_->{body}{messages}[-1]{content} eq 'Show revenue only in production' } $llm->requests;
is($last->{auth}, 'Bearer sk-test-SECRET-key', 'the key from the PUBLIC user mapping is sent as a bearer token');
like(join("\n", map { $_->{content} } @{ $last->{body}{messages} }), qr/production.*orders/s, 'the prompt carries the combined schema');

# plan(): the dry run.
is($coordinator->safe_psql('postgres', "SELECT source_db, sql FROM multidb.plan('Show revenue only in production', '$session')"),
	"production|$revenue", 'plan() shows the plan and runs nothing');

# A non-superuser: no key in sight, no other role's sessions.
$coordinator->safe_psql('postgres', q{
	CREATE ROLE carol LOGIN;
	GRANT USAGE ON FOREIGN SERVER production, backup, llm TO carol;
	CREATE USER MAPPING FOR carol SERVER production OPTIONS (user 'reader', password 'secret');
});
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SET ROLE carol; SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'llm'");
is($stdout, 'llm|', 'a non-superuser cannot read the LLM key');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET ROLE carol; SELECT count(*) FROM multidb.chat_sessions; SELECT count(*) FROM multidb.query_history; SELECT count(*) FROM multidb.chat_messages");
is($stdout, "0\n0\n0", "and sees none of another role's sessions, history or messages");
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET ROLE carol; SELECT source_db FROM multidb.ask('Show revenue only in production', connections => ARRAY['production'])");
is($stdout, 'production', 'but may ask with her own connections');
# One session asking as two roles in turn: a kept history writer serves the role it started as only, so each row is
# written as the role that asked (asked_by, row-level security).
my $me = $coordinator->safe_psql('postgres', 'SELECT current_user');
my $before = $coordinator->safe_psql('postgres', 'SELECT max(id) FROM multidb.query_history');
$coordinator->safe_psql('postgres', q{
	SELECT count(*) FROM multidb.ask('Show revenue only in production, 1', connections => ARRAY['production']);
	SET ROLE carol;
	SELECT count(*) FROM multidb.ask('Show revenue only in production, 2', connections => ARRAY['production']);
	RESET ROLE;
	SELECT count(*) FROM multidb.ask('Show revenue only in production, 3', connections => ARRAY['production']);});
is($coordinator->safe_psql('postgres',
		"SELECT string_agg(asked_by, ',' ORDER BY id) FROM multidb.query_history WHERE id > $before"),
	"$me,carol,$me", 'one session asking as two roles: each history row written as the role that asked');
# The same session's statements on multidb's tables are prepared once and reused: under another role, row-level
# security still hides the first role's chat session.
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "
	SELECT count(*) FROM multidb.ask('Show revenue only in production, 4', '$session');
	SET ROLE carol;
	SELECT count(*) FROM multidb.ask('Show revenue only in production, 5', '$session');");
like($stderr, qr/chat session .* does not exist/, "... and reads no other role's chat session through a reused statement");
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SET ROLE carol; SELECT multidb.attach('$session', 'production')");
like($stderr, qr/chat session .* does not exist/, "cannot attach to another role's session");

ok(defined wait_until_clean($coordinator, [ $production, $backup ], 2), 'no worker and no remote session left');
done_testing();
