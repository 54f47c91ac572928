# A running ask stopped on the coordinator is recorded as cancelled, not error, and leaves no remote statement
# running: pg_cancel_backend (in the backend's loop and with background workers), statement_timeout,
# pg_terminate_backend and a client that goes away (the backend ends before the ask does: the history writer
# records the ask as cancelled). Each leaves exactly one history row and, in a session, both its messages.
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
my $coordinator = start_coordinator();
add_connection($coordinator, 'slow', $remote);
my $llm = MultidbLlm->new(rules => [ { match => 'sleep', reply => encode_json({
				queries => [ { database => 'slow', sql => 'SELECT pg_sleep(60) AS slept' } ], explanation => 'Slow.' }) } ],
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

is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM multidb.query_history WHERE status = 'cancelled'}),
	$asked, 'one history row per ask, each cancelled');
done_testing();
