# Real LLM services on first contact: an ask through a stand-in for each service, which validates the request
# and shapes the reply as that service documents it (test/llm/provider_profiles.py), gets the right rows;
# retries with Retry-After, a reply cut at the token limit, a refusal, and a database that is not UTF-8.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $shop = start_remote('shop');
$shop->safe_psql('postgres', q{
	CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL, status text NOT NULL);
	COMMENT ON TABLE orders IS 'une commande passée';
	INSERT INTO orders SELECT g, 10 * g, (ARRAY['shipped', 'new', 'paid'])[1 + g % 3] FROM generate_series(1, 20) g;
	GRANT SELECT ON orders TO reader;
	ANALYZE orders;
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'shop', $shop);

sub plan_json
{
	my ($sql, %extra) = @_;
	# characters, not UTF-8 bytes: the stub's script is encoded once, as a whole (MultidbLlm.pm)
	return JSON::PP->new->canonical->encode({ queries => [ { database => 'shop', sql => $sql } ], explanation => 'Revenue.', %extra });
}
my $revenue = plan_json('SELECT sum(total) AS revenue FROM orders');
my $expected = 'shop|{"revenue": 2100.00}';

# One rule per service; the question names it.
my @services = (
	[ 'openai',           "provider 'openai', url '%URL%/v1', model 'gpt-4o-mini'" ],
	[ 'openai_reasoning', "provider 'openai', url '%URL%/v1', model 'o3-mini'" ],
	[ 'azure_classic',    "provider 'azure', url '%URL%/openai/deployments/prod-4o', model 'prod-4o'" ],
	[ 'azure_v1',         "provider 'azure', url '%URL%/openai/v1', model 'prod-4o'" ],
	[ 'anthropic',        "provider 'anthropic', url '%URL%', model 'claude-sonnet-4-5'" ],
	[ 'anthropic_no_temperature', "provider 'anthropic', url '%URL%/v1/messages', model 'claude-opus-5', temperature 'none'" ],
	[ 'ollama_think',     "url '%URL%/v1', model 'qwen3:8b'" ],
	[ 'vllm_think',       "url '%URL%/v1', model 'deepseek-r1', response_format 'json_schema'" ],
	[ 'think_unopened',   "url '%URL%/v1', model 'r1-distill'" ],
	[ 'llamacpp',         "url '%URL%/v1', model 'any', response_format 'json_object'" ],
	[ 'lmstudio',         "url '%URL%/v1', model 'qwen2.5-7b', response_format 'json_schema'" ],
	[ 'openrouter',       "url '%URL%/api/v1/chat/completions', model 'anthropic/claude-sonnet-4.5', headers '{\"HTTP-Referer\": \"https://example.com\", \"X-Title\": \"multidb\"}'" ],
	[ 'deepseek',         "url '%URL%', model 'deepseek-chat'" ],
	[ 'mistral',          "url '%URL%/v1', model 'magistral-medium'" ],
	[ 'gemini',           "url '%URL%/v1beta/openai', model 'gemini-2.5-flash'" ],
);
# "via [name]": no question is a substring of another's.
my @rules = map { { match => "revenue via [$_->[0]]", profile => $_->[0], reply => $revenue } } @services;
push @rules,
	# the reasoning model configured the old way: asked once more without what it refuses
	{ match => 'revenue the old way', profile => 'openai_reasoning', reply => $revenue },
	{ match => 'json_object at lmstudio', profile => 'lmstudio', reply => $revenue },
	{ match => 'passing errors', profile => 'openrouter', error_in_200 => 1, reply => $revenue },
	{ match => 'rate limited', profile => 'openai', reply => $revenue,
	  fail_first => [ { status => 429, headers => { 'retry-after' => '1' } } ] },
	{ match => 'overloaded claude', profile => 'anthropic', reply => $revenue,
	  fail_first => [ { status => 529 }, { status => 529, headers => { 'retry-after-ms' => '200' } } ] },
	{ match => 'always down', profile => 'openai', reply => $revenue,
	  fail_first => [ map { { status => 503 } } 1 .. 5 ] },
	{ match => 'a bad request', profile => 'openai', reply => $revenue,
	  fail_first => [ { status => 400, body => { error => { message => 'Invalid value for messages' } } } ] },
	{ match => 'cut short claude', profile => 'anthropic', finish => 'length', reply => $revenue },
	{ match => 'cut short', profile => 'openai', finish => 'length', reply => $revenue },
	{ match => 'refuse me', profile => 'openai', finish => 'refusal', reply => $revenue },
	{ match => 'filter me', profile => 'openai', finish => 'content_filter', reply => $revenue },
	{ match => 'gemini says no', profile => 'gemini', gemini_error => 'API key not valid. Please pass a valid API key.' },
	# a repair after a plan-cache hit, through Anthropic: no empty assistant turn may be sent
	{ match => 'column "missing" does not exist', profile => 'anthropic', after_error => 'column "missing"',
	  reply => plan_json('SELECT count(*) AS orders FROM orders') },
	{ match => 'count the orders', profile => 'anthropic', reply => plan_json('SELECT count(missing) AS orders FROM orders') },
	# the repair names the configured model, not the dated one the reply gave
	{ match => 'column "amount" does not exist', profile => 'azure_v1', after_error => 'column "amount"',
	  reply => plan_json('SELECT round(avg(total), 2) AS average FROM orders') },
	{ match => 'average through azure', profile => 'azure_v1', reply => plan_json('SELECT avg(amount) AS average FROM orders') },
	# a database that is not UTF-8: names, comments and SQL with é
	# (this file is bytes; encode_json wants characters: \x{e9} is é)
	{ match => "combien de commandes pass\x{e9}es", profile => 'openai',
	  reply => plan_json("SELECT count(*) AS \"num\x{e9}ro\" FROM orders WHERE total > 0") };
my $llm = MultidbLlm->new(rules => \@rules, default => 'no scripted reply');
my $url = 'http://127.0.0.1:' . $llm->port;

for my $service (@services)
{
	my ($name, $options) = @$service;
	$options =~ s/%URL%/$url/g;
	$coordinator->safe_psql('postgres',
		"CREATE SERVER llm_$name FOREIGN DATA WRAPPER multidb_llm OPTIONS ($options); "
		  . "CREATE USER MAPPING FOR PUBLIC SERVER llm_$name OPTIONS (api_key 'sk-$name-key')");
}
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm_old_way FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (url '$url/v1', model 'o3-mini', token_limit_field 'max_tokens', temperature '0');
	CREATE USER MAPPING FOR PUBLIC SERVER llm_old_way OPTIONS (api_key 'k');
	CREATE SERVER llm_lmstudio_object FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (url '$url/v1', model 'qwen2.5-7b', response_format 'json_object');");

sub ask
{
	my ($server, $question, $setup) = @_;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
		"SET multidb.llm_server = 'llm_$server'; " . ($setup // '')
		  . "SELECT source_db, row_data FROM multidb.ask('$question', connections => ARRAY['shop'])");
	return ($stdout, $stderr);
}

sub last_history
{
	my ($question, $columns) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT $columns FROM multidb.query_history WHERE question = '$question' ORDER BY id DESC LIMIT 1");
}

sub requests_for
{
	my ($question) = @_;
	return grep {
		my $body = $_->{body};
		my $text = encode_json($body->{messages} // []);
		index($text, $question) >= 0
	} $llm->requests;
}

# 1. Every service answers on first contact, with the options docs/asking.md gives.
for my $service (@services)
{
	my ($name) = @$service;
	my ($stdout, $stderr) = ask($name, "revenue via [$name]");
	is($stdout, $expected, "$name: the right rows") or diag($stderr);
	unlike($stderr, qr/NOTICE|WARNING/, "$name: no notice, no warning");
}

# The prompt shows the few values of a short text column, from the remote's pg_stats.
my ($first) = requests_for('revenue via [openai]');
like($first->{body}{messages}[0]{content}, qr/status text NOT NULL \(values: 'new', 'paid', 'shipped'\)/,
	'the prompt shows the values a short text column takes');
$coordinator->safe_psql('postgres', 'SELECT multidb.clear_cache()');
my ($stdout, $stderr) = ask('openai', 'revenue via [openai]', 'SET multidb.prompt_common_values = off; ');
my $without = (requests_for('revenue via [openai]'))[-1];
unlike($without->{body}{messages}[0]{content}, qr/values:/, '... and none with multidb.prompt_common_values off');

# What each request carried, as the services' references require.
my ($reasoning) = requests_for('revenue via [openai_reasoning]');
ok(exists $reasoning->{body}{max_completion_tokens} && !exists $reasoning->{body}{max_tokens}
	  && !exists $reasoning->{body}{temperature}, 'reasoning model: max_completion_tokens, no max_tokens, no temperature');
my ($classic) = requests_for('revenue via [azure_classic]');
like($classic->{path}, qr{^/openai/deployments/prod-4o/chat/completions\?api-version=2024-10-21$}, 'Azure deployment URL with api-version');
is($classic->{headers}{'api-key'}, '<set>', '... and the key in api-key');
my ($v1) = requests_for('revenue via [azure_v1]');
is($v1->{auth}, 'Bearer sk-azure_v1-key', 'Azure v1: a bearer token');
my ($claude) = requests_for('revenue via [anthropic]');
ok(!(grep { $_->{role} eq 'system' } @{ $claude->{body}{messages} }) && length($claude->{body}{system}) > 100,
	'Anthropic: one top-level system text, no system turn');
my ($router) = requests_for('revenue via [openrouter]');
is($router->{path}, '/api/v1/chat/completions', 'a pasted full endpoint is not doubled');
is($router->{headers}{'x-title'}, 'multidb', '... and the extra headers are sent');
my ($llamacpp) = requests_for('revenue via [llamacpp]');
is(scalar(grep { $_->{role} eq 'system' } @{ $llamacpp->{body}{messages} }), 1, 'one system message for every provider');
is_deeply($llamacpp->{body}{response_format}, { type => 'json_object' }, 'response_format json_object as configured');
my ($lmstudio) = requests_for('revenue via [lmstudio]');
is($lmstudio->{body}{response_format}{type}, 'json_schema', 'response_format json_schema as configured');
is_deeply($lmstudio->{body}{response_format}{json_schema}{schema}{required}, [ 'queries', 'combine', 'explanation' ],
	'... with the plan\'s schema');

# Reasoning drafts are never run: the draft plans in the profiles select 'draft' AS wrong.
unlike(join(' ', map { last_history("revenue via [$_]", 'plan::text') } qw(ollama_think vllm_think think_unopened mistral anthropic_no_temperature)),
	qr/draft|wrong/, 'no draft plan from the reasoning was taken');

# 2. A reasoning model configured the old way: asked once more without each refused parameter.
($stdout, $stderr) = ask('old_way', 'revenue the old way');
is($stdout, $expected, 'old options on a reasoning model: the rows still come');
like($stderr, qr/NOTICE:  LLM server "llm_old_way": the model does not take temperature.*temperature 'none'/,
	'... with a NOTICE naming the option for temperature');
like($stderr, qr/NOTICE:  LLM server "llm_old_way": the model does not take max_tokens.*token_limit_field 'max_completion_tokens'/,
	'... and one for max_tokens');
is(last_history('revenue the old way', q{(SELECT string_agg((a->>'status'), ',') FROM jsonb_array_elements(llm_attempts) a)}),
	'400,400,200', 'every request is in llm_attempts');

# 3. Passing errors are retried; final ones are not.
($stdout, $stderr) = ask('openrouter', 'passing errors');
is($stdout, $expected, 'OpenRouter: an error inside an HTTP 200, retried');
is(last_history('passing errors', q{jsonb_array_length(llm_attempts) || ' ' || (llm_attempts->0->>'error' LIKE '%Provider returned error%')}),
	'2 true', '... both requests recorded, the first with its error');
($stdout, $stderr) = ask('openai', 'rate limited');
is($stdout, $expected, '429 with retry-after: 1, then the answer');
is(last_history('rate limited', q{(llm_attempts->1->>'waited_ms')}), '1000', '... after waiting what the service asked');
($stdout, $stderr) = ask('anthropic', 'overloaded claude');
is($stdout, $expected, 'Anthropic 529 twice, then the answer');
like(last_history('overloaded claude', q{(SELECT string_agg(a->>'status' || ':' || (a->>'waited_ms'), ',') FROM jsonb_array_elements(llm_attempts) a)}),
	qr/^529:0,529:(3[7-9]\d|4\d\d|500),200:200$/, '... after 0.5 s of backoff (less a random quarter at most), then the 200 ms retry-after-ms asked');
($stdout, $stderr) = ask('openai', 'always down', 'SET multidb.llm_retries = 2; ');
like($stderr, qr/ERROR:  openai returned an error \(HTTP 503\): .*\(after 3 attempts\)/, 'a service that stays down: the error says how often it was tried');
is(last_history('always down', q{status || ' ' || jsonb_array_length(llm_attempts)}), 'error 3', '... and history has the three requests');
($stdout, $stderr) = ask('openai', 'a bad request');
like($stderr, qr/ERROR:  openai returned an error \(HTTP 400\): Invalid value for messages$/m, 'a 400 is not retried');
is(last_history('a bad request', 'jsonb_array_length(llm_attempts)'), '1', '... one request');

# 4. Cut off, refused, filtered, an error array: each named.
($stdout, $stderr) = ask('openai', 'cut short');
like($stderr, qr/ERROR:  openai stopped the reply at the token limit \(max_tokens = 4096\) before it was complete.*raise the server option max_tokens/,
	'finish_reason length: named, with the option to raise');
($stdout, $stderr) = ask('anthropic', 'cut short claude');
like($stderr, qr/ERROR:  anthropic stopped the reply at the token limit \(max_tokens = 4096\)/, 'stop_reason max_tokens: the same');
($stdout, $stderr) = ask('openai', 'refuse me');
like($stderr, qr/ERROR:  openai refused to answer: I'm sorry, I can't help with that\./, 'a refusal is named as one');
($stdout, $stderr) = ask('openai', 'filter me');
like($stderr, qr/ERROR:  openai's content filter stopped the reply/, 'a content filter too');
($stdout, $stderr) = ask('gemini', 'gemini says no');
like($stderr, qr/ERROR:  openai returned an error \(HTTP 400\): API key not valid/, 'Gemini\'s error array is read');
($stdout, $stderr) = ask('lmstudio_object', 'json_object at lmstudio');
like($stderr, qr/ERROR:  openai returned an error \(HTTP 400\): 'response_format.type' must be 'json_schema' or 'text'/,
	'LM Studio refusing json_object: its own words');

# 5. A repair after a plan-cache hit, through Anthropic (which refuses an empty turn): the cached plan worked
# once, then the remote changed under it.
$shop->safe_psql('postgres', 'ALTER TABLE orders ADD COLUMN missing int DEFAULT 1');
($stdout, $stderr) = ask('anthropic', 'count the orders');
is($stdout, 'shop|{"orders": 20}', 'a plan that works is cached') or diag($stderr);
$shop->safe_psql('postgres', 'ALTER TABLE orders DROP COLUMN missing');
($stdout, $stderr) = ask('anthropic', 'count the orders');
is($stdout, 'shop|{"orders": 20}', '... and when it fails later, the repair goes through Anthropic') or diag($stderr);
is(last_history('count the orders', q{cached || ' ' || jsonb_array_length(attempts)}), 'plan 2',
	'... from the plan cache, with the failed round and the repaired one');
my ($repair) = grep { encode_json($_->{body}{messages}) =~ /column \\"missing\\" does not exist/ } $llm->requests;
ok($repair && !(grep { !length($_->{content}) } @{ $repair->{body}{messages} }), '... no empty turn was sent');

# 6. Repairs ask the configured model; the reply's dated name goes to history only.
($stdout, $stderr) = ask('azure_v1', 'average through azure');
is($stdout, 'shop|{"average": 105.00}', 'Azure v1: the repaired plan ran') or diag($stderr);
my @azure = grep { ($_->{path} // '') =~ m{/openai/v1/} && encode_json($_->{body}) =~ /average through azure/ } $llm->requests;
is(join(',', map { $_->{body}{model} } @azure), 'prod-4o,prod-4o', 'both requests name the deployment');
isnt(last_history('average through azure', 'model'), 'prod-4o', 'history keeps the model the reply named');

# 7. A database whose encoding is LATIN1, asking a remote database in UTF-8.
$shop->safe_psql('postgres', "CREATE DATABASE shop_utf8 TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
$shop->safe_psql('shop_utf8', q{
	CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL);
	COMMENT ON TABLE orders IS 'une commande passée';
	INSERT INTO orders SELECT g, 10 * g FROM generate_series(1, 20) g;
	GRANT SELECT ON orders TO reader;
});
$coordinator->safe_psql('postgres', "CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
$coordinator->safe_psql('latin', "CREATE EXTENSION multidb; CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm "
	  . "OPTIONS (url '$url/v1', model 'gpt-4o-mini'); CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'k')");
add_connection($coordinator, 'shop', $shop, dbname => 'shop_utf8', in => 'latin');
{
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	my ($ret, $out, $err) = $coordinator->psql('latin',
		"SELECT source_db, row_data FROM multidb.ask('combien de commandes passées ?', connections => ARRAY['shop'])");
	is($out, 'shop|{"numéro": 20}', 'LATIN1 database: the question went out as UTF-8, the SQL came back and ran') or diag($err);
	# A background worker's column names reach the caller as the remote sent them, whatever psql's encoding.
	($ret, $out, $err) = $coordinator->psql('latin',
		"SET multidb.keep_connections = off; SELECT source_db, row_data FROM multidb.fanout('SELECT count(*) AS \"numéro\" FROM orders', ARRAY['shop'])");
	is($out, 'shop|{"numéro": 20}', '... and through a background worker') or diag($err);
}
my ($latin) = requests_for('combien de commandes pass');
like(encode_json($latin->{body}{messages}), qr/une commande passée/, '... and the schema comment reached the LLM intact');

done_testing();
