# A new user's first hour, nothing silent: schedule_report checks that pg_cron can reach the job's database
# (refusing with libpq's reason and what to set when pg_hba.conf refuses it), a job whose connection fails
# later still leaves a failed run in report_runs, with background workers a scheduled report runs by itself and
# one whose server is down records a failed run (TAP 014 once, waiting for a minute of its own), an ask naming
# no databases asks the caller's only connection or says how to add one, a failed ask is not sent to the LLM as
# an earlier turn, a model that answers in prose is called so, and `make demo` installs only what the demo needs.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = start_remote('shop');
# The coordinator listens on 127.0.0.1 (pg_cron's cron.host is localhost); pg_hba.conf lets TCP in only
# with a password, which pg_cron never has: its libpq connection is refused. A second coordinator runs pg_cron's
# jobs in background workers (section 3): pg_cron starts jobs at the minute, and the jobs of both coordinators,
# scheduled together, run at the same minute (one coordinator restarted in between waited for two).
my ($coordinator, $workers) = map {
	start_coordinator(name => $_ eq 'off' ? 'coordinator' : 'workers', conf => "listen_addresses = '127.0.0.1'\n"
		  . "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\ncron.use_background_workers = $_\n")
} qw(off on);
sub set_hba
{
	my ($tcp_auth, $node) = @_;
	$node //= $coordinator;
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
	print $hba "local all all trust\nhost all all 127.0.0.1/32 $tcp_auth\nhost all all ::1/128 $tcp_auth\n";
	close $hba;
	$node->reload;
	return;
}

# pg_cron starts jobs at the minute: a run of report "stock" within 90 s.
sub wait_for_run
{
	my ($node) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = 90;
	return $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM multidb.report_runs WHERE report = 'stock'", 't');
}
for my $node ($coordinator, $workers)
{
	set_hba('scram-sha-256', $node);
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
	add_connection($node, 'shop', $remote);
	$node->safe_psql('postgres',
		q{SELECT multidb.save_report_sql('stock', 'SELECT count(*) AS n FROM items', ARRAY['shop'])});
}
# On the second coordinator, a report whose server is down by the time its job runs: a failed run is recorded.
my $down = start_remote('down');
add_connection($workers, 'down', $down);
$workers->safe_psql('postgres',
	q{SELECT multidb.save_report_sql('stock_down', 'SELECT count(*) AS n FROM items', ARRAY['down'])});
$down->stop;

# 1. Refused at scheduling, with libpq's reason and both ways out.
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT multidb.schedule_report('stock', '* * * * *')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  08001: pg_cron could not connect to run report "stock"/,
	'schedule_report refuses when pg_cron cannot connect');
like($stderr, qr/password|authentication|no pg_hba/i, '... quoting libpq\'s reason');
like($stderr, qr/HINT:  .*cron\.use_background_workers = on.*pg_hba\.conf/s, '... and the HINT names both fixes');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM cron.job'), '0', '... and schedules nothing');

# 2. pg_hba.conf lets pg_cron in: scheduled. Then it is closed again: the job cannot connect, and the failed
# run reaches report_runs with the reason.
set_hba('trust');
is($coordinator->safe_psql('postgres', q{SELECT multidb.schedule_report('stock', '* * * * *') > 0}), 't',
	'with pg_cron let in, schedule_report schedules');
$coordinator->safe_psql('postgres', q{SELECT multidb.create_view_sql('stock_view', 'SELECT count(*) AS n FROM items',
	ARRAY['shop'], schedule => '* * * * *')});
set_hba('scram-sha-256');

# 3. Background workers on: pg_cron needs no connection; scheduled despite pg_hba.conf (and it runs, below).
# With it, a report whose server is down when the job runs.
is($workers->safe_psql('postgres', q{SELECT multidb.schedule_report('stock', '* * * * *') > 0}), 't',
	'with cron.use_background_workers = on, scheduled although pg_hba.conf refuses TCP');
$workers->safe_psql('postgres', q{SELECT multidb.schedule_report('stock_down', '* * * * *')});
is($workers->safe_psql('postgres', "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job"),
	'multidb report stock,multidb report stock_down', 'both reports are pg_cron jobs');

ok(wait_for_run($coordinator), 'a run of the job that could not connect reached report_runs');
{
	local $PostgreSQL::Test::Utils::timeout_default = 90;
	ok($coordinator->poll_query_until('postgres',
		"SELECT status = 'failed' FROM multidb.views WHERE view = 'public.stock_view'", 't'),
		'a view job that could not connect is a failed refresh of the view');
}
like($coordinator->safe_psql('postgres', "SELECT error FROM multidb.views WHERE view = 'public.stock_view'"),
	qr/^pg_cron could not run the job: connection failed.*cron\.use_background_workers/s, '... with the reason');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM public.stock_view'), '1', '... and its snapshot kept');
$coordinator->safe_psql('postgres', q{SELECT multidb.drop_view('public.stock_view')});
like($coordinator->safe_psql('postgres',
	"SELECT status || ': ' || error FROM multidb.report_runs WHERE report = 'stock' ORDER BY id LIMIT 1"),
	qr/^failed: pg_cron could not run the job: connection failed.*cron\.use_background_workers/s,
	'a job that cannot connect leaves a failed run in report_runs, with the reason');
like($coordinator->safe_psql('postgres',
	"SELECT status FROM cron.job_run_details ORDER BY runid LIMIT 1"), qr/failed/, '... as pg_cron recorded it');
$coordinator->safe_psql('postgres', q{SELECT multidb.unschedule_report('stock')});

# 3, continued: the jobs of the coordinator with background workers ran at the same minute.
{
	local $PostgreSQL::Test::Utils::timeout_default = 90;
	ok($workers->poll_query_until('postgres', "SELECT count(DISTINCT report) = 2 FROM multidb.report_runs", 't'),
		'the jobs ran');
}
is($workers->safe_psql('postgres',
	"SELECT status, source_db, row_data->>'n' FROM multidb.report_runs WHERE report = 'stock' ORDER BY id LIMIT 1"),
	'ok|shop|100', '... and the scheduled report landed its rows by itself');
like($workers->safe_psql('postgres',
	"SELECT status || ': ' || error FROM multidb.report_runs WHERE report = 'stock_down' ORDER BY id LIMIT 1"),
	qr/^failed: connection "down": could not connect/, 'the report whose server is down recorded a failed run');
$workers->safe_psql('postgres',
	q{SELECT multidb.unschedule_report('stock'); SELECT multidb.unschedule_report('stock_down')});
is($workers->safe_psql('postgres', 'SELECT count(*) FROM cron.job'), '0', 'unschedule_report removes the jobs');
$workers->stop;

# 4. ask with neither session nor connections: the caller's only usable connection is asked (0.8; with several,
# the HINT lists them: TAP 031, regress sessions), or the HINT says there is none and how to add one.
($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT * FROM multidb.ask('What is the total stock?')});
like($stderr, qr/ERROR:  no LLM server is configured/, 'ask without connections: the only usable connection is asked (the LLM is next)');
unlike($stderr, qr/backup/, '... no example names');
$coordinator->safe_psql('postgres', q{CREATE ROLE newcomer LOGIN});
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SET ROLE newcomer; SELECT * FROM multidb.ask('What is the total stock?')});
like($stderr, qr/HINT:  .*no connection you can use.*add_connection/s, '... or says there is none and how to add one');

# 5. A failed ask stays in the session but is not sent to the LLM as an earlier turn.
my $session = $coordinator->safe_psql('postgres', q{SELECT multidb.create_session('first', ARRAY['shop'])});
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.ask('What is the total stock?', session => '$session')");
like($stderr, qr/no LLM server/, 'an ask before any LLM server fails');
my $plan = encode_json({ queries => [ { database => 'shop', sql => 'SELECT count(*) AS n FROM items' } ],
		explanation => 'Items.' });
my $llm = MultidbLlm->new(rules => [
		{ match => 'How many items', reply => $plan },
		{ match => 'And now?', reply => $plan },
		{ match => 'total price', reply => 'I do not know.' } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
is($coordinator->safe_psql('postgres', "SELECT row_data->>'n' FROM multidb.ask('How many items?', session => '$session')"),
	'100', 'the next ask of the session is answered');
my ($request) = grep { $_->{body}{messages}[-1]{content} =~ /How many items/ } $llm->requests;
my $conversation = join "\n", map { $_->{content} } @{ $request->{body}{messages} };
unlike($conversation, qr/no LLM server|total stock/, '... and the failed ask was not sent as an earlier turn');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.chat_messages WHERE session_id = '$session' AND content LIKE '%Failed: no LLM server%'"),
	'1', '... though it stays in the session\'s messages');
$coordinator->safe_psql('postgres', "SELECT * FROM multidb.ask('And now?', session => '$session')");
($request) = grep { $_->{body}{messages}[-1]{content} =~ /And now\?/ } $llm->requests;
$conversation = join "\n", map { $_->{content} } @{ $request->{body}{messages} };
like($conversation, qr/How many items/, 'an answered exchange is still sent as context');

# 6. A model that answers in prose: said so, quoted, with what to try.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.ask('What is the total price?', connections => ARRAY['shop'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  39000: .*answered in prose.*declined.*The reply began: I do not know\./,
	'a prose reply: the model declined, quoted');
like($stderr, qr/HINT:  .*[Rr]ephrase.*name the databases.*model/s, '... with what to try');

# 7. The trigger goes with the extension, and comes back with it: DROP EXTENSION multidb needs no CASCADE for it,
# and CREATE EXTENSION at 0.6 then ALTER EXTENSION UPDATE (pg_cron already there) puts it back.
my $watch = "SELECT count(*) FROM pg_trigger WHERE tgname = 'multidb_report_failures'";
is($coordinator->safe_psql('postgres', $watch), '1', 'the trigger is on cron.job_run_details');
$coordinator->safe_psql('postgres', 'DROP SERVER shop CASCADE; DROP SERVER llm CASCADE; DROP EXTENSION multidb');
is($coordinator->safe_psql('postgres', $watch), '0', 'DROP EXTENSION multidb drops it, without CASCADE');
$coordinator->safe_psql('postgres', "CREATE EXTENSION multidb VERSION '0.6'; ALTER EXTENSION multidb UPDATE TO '0.7'");
is($coordinator->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'multidb'") . ' '
	  . $coordinator->safe_psql('postgres', $watch), '0.7 1', 'ALTER EXTENSION multidb UPDATE from 0.6 puts it back');

# A look-alike cron.job_run_details that someone else made gets no trigger: a role with CREATE on a database
# without pg_cron makes schema "cron" and the table, and calls _watch_cron (SECURITY DEFINER, run by anyone).
$coordinator->safe_psql('postgres', q{
	CREATE DATABASE nocron; CREATE ROLE mallory LOGIN; GRANT CREATE ON DATABASE nocron TO mallory});
$coordinator->safe_psql('nocron', 'CREATE EXTENSION multidb');
$coordinator->safe_psql('nocron', q{
	SET ROLE mallory; CREATE SCHEMA cron;
	CREATE TABLE cron.job_run_details (runid bigint, jobid bigint, status text, return_message text,
	                                   start_time timestamptz);
	SELECT multidb._watch_cron()});
is($coordinator->safe_psql('nocron', $watch), '0', 'a look-alike cron.job_run_details gets no trigger');

# 8. The demo installs only what the demo needs; make test adds the test-only packages.
my $root = $ENV{TESTDIR} // '.';
my $demo = `bash -c 'source "$root/test/harness/lib.sh"; echo "\${DEMO_PACKAGES[*]}"'`;
my $test = `bash -c 'source "$root/test/harness/lib.sh"; echo "\${TEST_PACKAGES[*]}"'`;
like($demo, qr/\bpostgresql-15\b.*\bpython3\b/, 'the demo\'s packages: what it needs');
unlike($demo, qr/\b(clang|libclang-rt[\w.-]*|pgbouncer|libgtest-dev)\b/, '... and none of the test-only ones');
like($test, qr/\blibgtest-dev\b.*\bpgbouncer\b.*\bclang\b/, 'the test-only packages are listed for make test');
like($demo, qr/\bcurl\b/, '... and curl, with which the demo runs the seed\'s HTTP workflows against the gateway');
# Each question the demo asks over HTTP has a plan in the stand-in's script (not its "knows only" default).
my $script = decode_json(slurp_file("$root/demo/llm_script.json"));
my @http_questions = slurp_file("$root/demo/run.sh") =~ /\\"question\\": \\"([^"\\]+)\\"/g;
is(scalar @http_questions, 2, 'the demo asks the two questions of the seed\'s workflows over HTTP');
for my $question (@http_questions)
{
	ok((grep { index($question, $_->{match}) >= 0 } @{ $script->{rules} }), "... and the stand-in has a plan for \"$question\"");
}
unlike(slurp_file("$root/demo/llm_script.json"), qr/LIMIT 50/, 'the demo\'s "missing from the backup" plan compares all orders');

done_testing();
