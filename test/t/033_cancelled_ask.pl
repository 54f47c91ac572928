# A running ask stopped on the coordinator is recorded as cancelled, not error, and leaves no remote statement
# running: pg_cancel_backend (in the backend's loop and with background workers), statement_timeout,
# pg_terminate_backend and a client that goes away (the backend ends before the ask does: the history writer
# records the ask as cancelled), also when the history writer was kept from the session's earlier asks. Each leaves
# exactly one history row and, in a session, both its messages.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote = start_remote('slow');
# Preloaded: history writers are kept only with the shared signal that makes them give their slots up.
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'multidb'\n");
add_connection($coordinator, 'slow', $remote);
my $llm = MultidbLlm->new(rules => [ { match => 'sleep', reply => encode_json({
				queries => [ { database => 'slow', sql => 'SELECT pg_sleep(60) AS slept' } ], explanation => 'Slow.' }) },
		{ match => 'quick', reply => encode_json({
				queries => [ { database => 'slow', sql => 'SELECT 1 AS one' } ], explanation => 'Quick.' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
my $session = $coordinator->safe_psql('postgres', q{SELECT multidb.create_session('long', ARRAY['slow'])});

sub remote_statement_running
{
	return $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb' AND state <> 'idle'");
}

sub wait_for_remote_sleep
{
	$remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'multidb' AND wait_event = 'PgSleep'")
	  or die 'the remote statement never started';
	return;
}

# Seconds until no remote statement of ours runs, or undef after 10 s.
sub wait_remote_idle
{
	my $start = time;
	while (time - $start < 10)
	{
		return time - $start if remote_statement_running() == 0;
		usleep(20_000);
	}
	return undef;
}

my $asked = 0;
# Starts an ask in psql in the background; returns the handle, its stderr and its question.
sub start_ask
{
	my ($setting) = @_;
	$asked++;
	my $question = "sleep $asked";
	my ($stdout, $stderr) = ('', '');
	my @command = ('psql', '-XAtq', '-d', $coordinator->connstr('postgres'), '-c',
		"$setting SELECT * FROM multidb.ask('$question', '$session')");
	my $handle = IPC::Run::start(\@command, '>', \$stdout, '2>', \$stderr);
	return ($handle, \$stderr, $question);
}

# The ask's history row (status|error) and how many messages of the session point at it, once it is there.
sub history_of
{
	my ($question) = @_;
	$coordinator->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM multidb.query_history WHERE question = '$question'")
	  or return 'no history row';
	return $coordinator->safe_psql('postgres',
		"SELECT h.status || '|' || h.error || '|' || (SELECT count(*) FROM multidb.chat_messages m WHERE m.query_id = h.id)
		   FROM multidb.query_history h WHERE question = '$question'");
}

for my $mode ([ 'in the backend', '' ], [ 'with background workers', 'SET multidb.keep_connections = off;' ])
{
	my ($label, $setting) = @$mode;
	my ($handle, $stderr, $question) = start_ask($setting);
	wait_for_remote_sleep();
	my $asker = backend_pid_running($coordinator, $question);
	$coordinator->safe_psql('postgres', "SELECT pg_cancel_backend($asker)");
	$handle->finish;
	like($$stderr, qr/canceling statement due to user request/, "$label, pg_cancel_backend: the ask is cancelled");
	my $idle = wait_remote_idle();
	ok(defined $idle, "$label: no remote statement keeps running" . (defined $idle ? sprintf(' (%.2f s)', $idle) : ''));
	is(history_of($question), 'cancelled|canceling statement due to user request|2',
		"$label: the history row says cancelled, with both messages of the session");
}

# statement_timeout: cancelled too, the error saying why.
my ($handle, $stderr, $question) = start_ask("SET statement_timeout = '1s';");
$handle->finish;
like($$stderr, qr/canceling statement due to statement timeout/, 'statement_timeout ends the ask');
is(history_of($question), 'cancelled|canceling statement due to statement timeout|2', '... recorded as cancelled');
ok(defined wait_remote_idle(), '... and no remote statement keeps running');

# pg_terminate_backend: the backend ends before the ask; the history writer records it as cancelled.
($handle, $stderr, $question) = start_ask('');
wait_for_remote_sleep();
my $asker = backend_pid_running($coordinator, $question);
$coordinator->safe_psql('postgres', "SELECT pg_terminate_backend($asker)");
$handle->finish;
like(history_of($question), qr/^cancelled\|the ask's backend ended before the ask did .*\|2$/,
	'pg_terminate_backend: the history row says cancelled, both messages written');
ok(defined wait_remote_idle(), '... and no remote statement keeps running');

# A client that goes away: its backend notices (client_connection_check_interval) and ends.
($handle, $stderr, $question) = start_ask("SET client_connection_check_interval = '100ms';");
wait_for_remote_sleep();
$asker = backend_pid_running($coordinator, $question);
$handle->kill_kill;
like(history_of($question), qr/^cancelled\|the ask's backend ended before the ask did .*\|2$/,
	'a client gone: the history row says cancelled');
ok(defined wait_remote_idle(), '... and no remote statement keeps running');

# A session that asks again and again keeps its history writer between the asks (a worker's start costs more than a
# cached ask): one writer for both asks, each ask's row committed before the ask returns; and when the backend is
# terminated during a later ask, the kept writer records that ask as cancelled all the same.
my $writers = q{SELECT coalesce(string_agg(pid::text, ','), 'none') FROM pg_stat_activity
	WHERE backend_type = 'multidb history writer'};
$coordinator->poll_query_until('postgres', "$writers", 'none') or die 'history writers of ended sessions stayed';
$asked++;
$question = "sleep $asked";
my ($stdout, $kept_stderr) = ('', '');
$handle = IPC::Run::start([ 'psql', '-XAtq', '-d', $coordinator->connstr('postgres'),
		'-c', "SELECT count(*) FROM multidb.ask('quick 1', '$session')",
		'-c', q{SELECT status FROM multidb.query_history WHERE question = 'quick 1'}, '-c', $writers,
		'-c', "SELECT count(*) FROM multidb.ask('quick 2', '$session')",
		'-c', q{SELECT status FROM multidb.query_history WHERE question = 'quick 2'}, '-c', $writers,
		'-c', "SELECT * FROM multidb.ask('$question', '$session')" ], '>', \$stdout, '2>', \$kept_stderr);
wait_for_remote_sleep();
$asker = backend_pid_running($coordinator, $question);
$coordinator->safe_psql('postgres', "SELECT pg_terminate_backend($asker)");
$handle->finish;
my @kept = split /\n/, $stdout;
is(join('|', @kept[ 0, 1, 3, 4 ]), '1|ok|1|ok', "one session's asks: each one's history row is there when it returns");
like($kept[2], qr/^\d+$/, '... written by one history writer');
is($kept[5], $kept[2], '... the same for the second ask: kept, not started again');
like(history_of($question), qr/^cancelled\|the ask's backend ended before the ask did .*\|2$/,
	'a terminated backend: its kept writer records the running ask as cancelled');

# The record as cancelled lies in shared memory when it fits in 8 kB, and comes to the writer as a message when longer:
# a question of 9,000 characters, asked of a kept writer and ended the same way, is recorded whole all the same.
$asked++;
$question = "sleep $asked " . ('x' x 9000);
$stdout = '';
$handle = IPC::Run::start([ 'psql', '-XAtq', '-d', $coordinator->connstr('postgres'),
		'-c', "SELECT count(*) FROM multidb.ask('quick 5', '$session')", '-c', $writers,
		'-c', "SELECT * FROM multidb.ask('$question', '$session')" ], '>', \$stdout, '2>', \$kept_stderr);
wait_for_remote_sleep();
$asker = backend_pid_running($coordinator, "sleep $asked ");
$coordinator->safe_psql('postgres', "SELECT pg_terminate_backend($asker)");
$handle->finish;
@kept = split /\n/, $stdout;
is($kept[0], '1', 'a kept writer again');
like(history_of($question), qr/^cancelled\|the ask's backend ended before the ask did .*\|2$/,
	'a question longer than the shared record: recorded as cancelled, whole');

# An idle writer leaves after 5 s (it holds a worker slot); the session's next ask starts another.
$stdout = '';
IPC::Run::run([ 'psql', '-XAtq', '-d', $coordinator->connstr('postgres'),
		'-c', "SELECT count(*) FROM multidb.ask('quick 3', '$session')", '-c', $writers, '-c', 'SELECT pg_sleep(6)',
		'-c', $writers, '-c', "SELECT count(*) FROM multidb.ask('quick 4', '$session')",
		'-c', q{SELECT status FROM multidb.query_history WHERE question = 'quick 4'} ], '>', \$stdout, '2>', \$kept_stderr);
@kept = split /\n/, $stdout;
like($kept[1], qr/^\d+$/, 'a writer while the session asks');
is(join('|', @kept[ 3 .. 5 ]), 'none|1|ok', '... gone after 5 s idle; the next ask starts another and is recorded');

is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM multidb.query_history WHERE status = 'cancelled'}),
	$asked, 'one history row per ask, each cancelled');
done_testing();
