# Cancel, terminate and statement_timeout of the caller, mid-query: no remote query of ours is left running
# (each would sleep 60 s; the bound of 10 s leaves room for a loaded machine) and no worker is left — with background workers and with the in-backend path.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("r$_") } 1 .. 3;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 3;
my $long_fanout = "SELECT * FROM multidb.fanout('SELECT pg_sleep(60)', ARRAY['r1', 'r2', 'r3'])";

# Waits until every remote runs our pg_sleep, so that the interruption really is mid-query.
sub wait_for_remote_queries
{
	for my $remote (@remotes)
	{
		$remote->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'multidb' "
			  . "AND state = 'active' AND wait_event = 'PgSleep'")
		  or die 'the remote query never started';
	}
}

for my $mode ([ 'background workers', 8 ], [ 'in-backend', 0 ])
{
	my ($label, $max_workers) = @$mode;
	my $setting = "SET multidb.max_workers = $max_workers" . ($max_workers > 0 ? '; SET multidb.keep_connections = off' : '');

	for my $interruption ([ 'pg_cancel_backend', qr/canceling statement due to user request/ ],
		[ 'pg_terminate_backend', qr/terminating connection due to administrator command|server closed the connection/ ])
	{
		my ($function, $expected_error) = @$interruption;
		my ($handle, $stdout, $stderr) = background_fanout($coordinator, $setting, $long_fanout);
		wait_for_remote_queries();
		if ($max_workers > 0)
		{
			is(workers_of($coordinator), '3', "$label: three workers run");
		}
		else
		{
			is(workers_of($coordinator), '0', "$label: no worker runs");
		}
		my $caller = backend_pid_running($coordinator, 'pg_sleep(60)');
		$coordinator->safe_psql('postgres', "SELECT $function($caller)");
		my $cleaned = wait_until_clean($coordinator, \@remotes, 10);
		ok(defined $cleaned,
			"$label, $function: no remote query and no worker left"
			  . (defined $cleaned ? sprintf(' (%.2f s)', $cleaned) : ''));
		$handle->finish;
		like($$stderr, $expected_error, "$label, $function: the caller got the interruption");
	}

	my $start = time;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
		"$setting; SET statement_timeout = '1s'; $long_fanout");
	like($stderr, qr/canceling statement due to statement timeout/, "$label: the caller's statement_timeout fires");
	cmp_ok(time - $start, '<', 10, sprintf("$label: at the timeout, not after the remote's 60 s (%.2f s)", time - $start));
	my $cleaned = wait_until_clean($coordinator, \@remotes, 10);
	ok(defined $cleaned, "$label, statement_timeout: no remote query and no worker left"
		  . (defined $cleaned ? sprintf(' (%.2f s)', $cleaned) : ''));
}

# Workers the caller ended on purpose exit quietly: a cancelled fan-out leaves no FATAL line per worker.
my $log = slurp_file($coordinator->logfile);
unlike($log, qr/FATAL:.*terminating (background|multidb) worker/, 'no FATAL line in the server log for the workers the caller ended');
like($log, qr/canceling statement due to user request/, '... while the log does record the cancels themselves');

# The remote statement_timeout from multidb.statement_timeout also ends a query.
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.statement_timeout = '300ms'; SELECT * FROM multidb.fanout('SELECT pg_sleep(60)', ARRAY['r1'])");
like($stderr, qr/connection "r1": canceling statement due to statement timeout/, 'multidb.statement_timeout reaches the remote');

is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1', 'r2', 'r3'])"), '3',
	'the coordinator answers normally afterwards');
done_testing();
