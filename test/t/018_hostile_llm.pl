# LLM replies built to hurt, and odd values from a remote's statistics: every ask ends at once with a clear
# error (or, for odd metadata, succeeds with it recorded as unknown), stays killable, and keeps its history
# row.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $shop = start_remote('shop');
$shop->safe_psql('postgres', q{
	CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
	GRANT SELECT ON orders TO reader;
	-- a remote's statistics can say anything
	ANALYZE orders;
	UPDATE pg_class SET reltuples = 2e19 WHERE relname = 'orders';
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'shop', $shop);

sub plan_reply { return encode_json({ queries => [ { database => 'shop', sql => $_[0] } ], explanation => 'x' }); }
my $count = plan_reply('SELECT count(*) AS n FROM orders');
my $nesting = 120_000;
my $llm = MultidbLlm->new(
	rules => [
		{ match => 'nested braces', reply => ('{' x $nesting) . ('}' x $nesting) },
		{ match => 'fifty megabytes', repeat => { head => '{"choices": [{"message": {"content": "', unit => 'x', count => 50_000_000, tail => '"}}]}' } },
		{ match => 'slow and long', trickle => 0.2, repeat => { unit => 'x', count => 3_000_000 } },
		{ match => 'echo the key', status => 401, raw => '{"error": {"message": "key %KEY% is wrong (%KEY%)"}}' },
		{ match => 'invalid utf8 body',
		  raw_hex => unpack('H*', '{"choices": [{"message": {"content": "') . 'fffe' . unpack('H*', '"}}]}') },
		{ match => 'invalid utf8 error', status => 500, raw_hex => 'fffe41' . unpack('H*', ' overloaded') },
		{ match => 'nul in sql', reply => plan_reply("SELECT 1\0; DROP TABLE orders") },
		{ match => 'huge token counts', reply => $count, usage => { prompt_tokens => 3_000_000_000, completion_tokens => 1e300 } },
		{ match => 'token counts as words', reply => $count, usage => { prompt_tokens => 'many', completion_tokens => -5 } },
		{ match => 'plain count', reply => $count },
	],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '20s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	CREATE SERVER llm_keyed FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm_keyed OPTIONS (api_key 'key');");

# Runs an ask; returns its stderr, stdout, seconds taken, and the history row (status|error|tokens).
sub ask
{
	my ($question, $setup) = @_;
	my $start = time;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
		($setup // "SET multidb.llm_server = 'llm'; ")
		  . "SELECT source_db, row_data FROM multidb.ask('$question', connections => ARRAY['shop'])");
	my $took = time - $start;
	my $history = $coordinator->safe_psql('postgres',
		"SELECT status || '|' || coalesce(error, '') || '|' || coalesce(prompt_tokens::text, 'unknown') || '|' "
		  . "|| coalesce(completion_tokens::text, 'unknown') FROM multidb.query_history "
		  . "WHERE question = '$question' ORDER BY id DESC LIMIT 1");
	return ($stderr, $stdout, $took, $history);
}

my ($stderr, $stdout, $took, $history) = ask('nested braces');
like($stderr, qr/ERROR:  the LLM's reply holds no plan/, "$nesting nested braces: a clear error");
cmp_ok($took, '<', 10, sprintf('... at once (%.2f s; the old scan from every brace was quadratic)', $took));
like($history, qr/^error\|the LLM's reply holds no plan/, '... and the history row');

($stderr, $stdout, $took, $history) = ask('fifty megabytes');
like($stderr, qr/ERROR:  the reply is longer than 4194304 bytes \(multidb\.llm_max_reply_size\); the rest was not read/,
	'a 50 MB reply: stopped at multidb.llm_max_reply_size');
cmp_ok($took, '<', 10, sprintf('... at once (%.2f s)', $took));
like($history, qr/^error\|the reply is longer than/, '... and the history row');
($stderr) = ask('fifty megabytes', "SET multidb.llm_server = 'llm'; SET multidb.llm_max_reply_size = '64kB'; ");
like($stderr, qr/longer than 65536 bytes/, 'the limit is a setting');

# A long reply trickling in: Ctrl-C ends the ask within a second, and the ask is recorded.
my ($handle, $out, $err) = background_fanout($coordinator, "SET multidb.llm_server = 'llm'",
	"SELECT * FROM multidb.ask('slow and long', connections => ARRAY['shop'])");
usleep(1_500_000);
my $caller = backend_pid_running($coordinator, 'slow and long');
my $asked_at = time;
$coordinator->safe_psql('postgres', "SELECT pg_cancel_backend($caller)");
$handle->finish;
cmp_ok(time - $asked_at, '<', 5, sprintf('a trickling reply: Ctrl-C ends the ask (%.2f s)', time - $asked_at));
like($$err, qr/canceling statement due to user request/, '... as a cancel');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.query_history WHERE question = 'slow and long'"), '1',
	'... and the cancelled ask has its history row');

($stderr, $stdout, $took, $history) = ask('echo the key', "SET multidb.llm_server = 'llm_keyed'; ");
# "key %KEY% is wrong (%KEY%)" with the key "key": every "key" is masked, the word too
like($stderr, qr/openai returned an error \(HTTP 401\): <key> <key> is wrong \(<key>\)/,
	'a key that is a substring of its own mask: hidden, and the ask ends');
cmp_ok($took, '<', 10, sprintf('... at once (%.2f s; it looped forever before)', $took));
like($history, qr/^error\|/, '... and the history row');

($stderr, $stdout, $took, $history) = ask('invalid utf8 body');
# the two invalid bytes come out as two U+FFFD (EF BF BD), so the message itself is valid UTF-8
like($stderr, qr/ERROR:  openai reply is not JSON \(HTTP 200\): \{"choices": \[\{"message": \{"content": "\xEF\xBF\xBD\xEF\xBF\xBD"/,
	'invalid UTF-8 in a reply: a clear error, the bytes replaced');
like($history, qr/^error\|openai reply is not JSON/, '... and the history row');
($stderr, $stdout, $took, $history) = ask('invalid utf8 error');
like($stderr, qr/ERROR:  openai returned an error \(HTTP 500\): \xEF\xBF\xBD\xEF\xBF\xBDA overloaded/, 'invalid UTF-8 in an error body: shown as replacement characters');
like($history, qr/^error\|openai returned an error \(HTTP 500\)/, '... and the history row');

($stderr, $stdout, $took, $history) = ask('nul in sql');
like($stderr, qr/ERROR:  the SQL for database "shop" contains a NUL character/, 'a NUL inside the SQL: refused as a bad plan');
like($history, qr/^error\|the SQL for database "shop" contains a NUL character/, '... and the history row');
is($shop->safe_psql('postgres', 'SELECT count(*) FROM orders'), '10', '... and nothing reached the remote');

($stderr, $stdout, $took, $history) = ask('huge token counts');
is($stdout, 'shop|{"n": 10}', 'token counts of 3,000,000,000 and 1e300: the answer stands');
is($history, 'ok||unknown|unknown', '... recorded as unknown');
($stderr, $stdout, $took, $history) = ask('token counts as words');
is($stdout, 'shop|{"n": 10}', 'token counts that are no numbers: the answer stands');
is($history, 'ok||unknown|unknown', '... recorded as unknown');
($stderr, $stdout, $took, $history) = ask('plain count');
like($history, qr/^ok\|\|\d+\|\d+$/, 'ordinary token counts are recorded');

# The remote said 2e19 rows: the prompt does not invent a negative count.
my ($request) = grep { $_->{body}{messages}[-1]{content} =~ /plain count/ } $llm->requests;
my $prompt = join("\n", map { $_->{content} } @{ $request->{body}{messages} });
unlike($prompt, qr/-\d+ rows/, 'a row estimate of 2e19 does not become a negative count in the prompt');
like($prompt, qr/orders/, '... and the table is still described');

is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['shop'])"), '1',
	'the coordinator answers normally afterwards');
done_testing();
