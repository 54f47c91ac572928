# A remote frozen with SIGSTOP — a paused VM, a partition the kernel still acknowledges — mid-statement and
# right after connecting, with background workers, in the backend (keeping its connections, the default),
# and with no worker slot free: the call ends at multidb.statement_timeout plus its grace with an error
# naming the connection; with no such timeout, Ctrl-C and pg_terminate_backend end it within a second; no
# worker is left, and once the remote thaws, none of our sessions either.
use strict;
use warnings;

use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote = start_remote('frozen');
my $coordinator = start_coordinator();
# The logical replication launcher holds the only slot: every target runs in the backend.
my $no_slots = start_coordinator(name => 'no_slots', max_worker_processes => 1);
add_connection($_, 'frozen', $remote) for $coordinator, $no_slots;
$_->safe_psql('postgres', "ALTER SERVER frozen OPTIONS (ADD connect_timeout '2')") for $coordinator, $no_slots;

# The remote cluster's processes: the postmaster and its children.
sub remote_pids
{
	my $postmaster = (split /\n/, slurp_file($remote->data_dir . '/postmaster.pid'))[0];
	my @children = split /\s+/, `pgrep -P $postmaster`;
	return ($postmaster, grep { /^\d+$/ } @children);
}
sub freeze { kill 'STOP', remote_pids(); return; }
sub thaw { kill 'CONT', remote_pids(); return; }

sub wait_for_remote
{
	my ($condition) = @_;
	$remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'multidb' AND $condition")
	  or die "the remote never showed $condition";
	return;
}

# Seconds until the background psql ends, or undef if it still runs after $limit.
sub seconds_until_done
{
	my ($handle, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return time - $start unless $handle->pumpable;
		eval { $handle->pump_nb };
		usleep(20_000);
	}
	return undef;
}

sub after_thaw_clean
{
	my ($node, $label) = @_;
	thaw();
	my $cleaned = wait_until_clean($node, [$remote], 15);
	ok(defined $cleaned, "$label: once thawed, no remote session of ours is left");
	return;
}

for my $mode ([ 'workers', $coordinator, 8 ], [ 'in the backend', $coordinator, 0 ], [ 'no worker slot', $no_slots, 8 ])
{
	my ($label, $node, $max_workers) = @$mode;
	my $setting = "SET multidb.max_workers = $max_workers" . ($max_workers > 0 ? '; SET multidb.keep_connections = off' : '');

	# 0. Frozen before the call: the connect deadline (the server's connect_timeout, 2 s) ends it.
	freeze();
	my $start = time;
	my ($ret, $out, $err) = $node->psql('postgres', "$setting; SELECT * FROM multidb.fanout('SELECT 1', ARRAY['frozen'])");
	like($err, qr/connection "frozen": could not connect within 2 s/, "$label, frozen before the call: the connect deadline");
	cmp_ok(time - $start, '<', 8, sprintf("$label: by the deadline, not stuck (%.2f s)", time - $start));
	after_thaw_clean($node, "$label, before the call");

	# 1. Frozen mid-statement: multidb's own deadline ends the call (statement_timeout 2 s + 1 s of grace).
	my ($handle, $stdout, $stderr) = background_fanout($node, $setting, "SET multidb.statement_timeout = '2s'",
		"SELECT * FROM multidb.fanout('SELECT pg_sleep(1) AS s', ARRAY['frozen'])");
	wait_for_remote("wait_event = 'PgSleep'");
	my $frozen_at = time;
	freeze();
	my $took = seconds_until_done($handle, 10);
	ok(defined $took && time - $frozen_at < 8, "$label, frozen mid-statement: the call ends by the deadline"
		  . (defined $took ? sprintf(' (%.2f s after the freeze)', time - $frozen_at) : ' (still waiting after 10 s)'));
	$handle->finish;
	like($$stderr, qr/connection "frozen": no answer from the server within 3000 ms/, "$label: the error names the connection and the deadline");
	my $left = wait_until_clean_workers($node, 5);
	ok($left, "$label: no worker left");
	after_thaw_clean($node, "$label, mid-statement");

	# 2. Frozen right after connecting: the statement waits on a lock, then the server stops.
	my ($holder_out, $holder_err) = ('', '');
	my $holder = IPC::Run::start([ 'psql', '-XAtq', '-d', $remote->connstr('postgres'),
			'-c', 'BEGIN', '-c', 'LOCK TABLE items IN ACCESS EXCLUSIVE MODE', '-c', 'SELECT pg_sleep(600)' ],
		'>', \$holder_out, '2>', \$holder_err);
	$remote->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
	  or die 'the lock holder never started';
	($handle, $stdout, $stderr) = background_fanout($node, $setting, "SET multidb.statement_timeout = '2s'",
		"SELECT * FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['frozen'])");
	wait_for_remote("wait_event_type = 'Lock'");
	$frozen_at = time;
	freeze();
	$took = seconds_until_done($handle, 10);
	ok(defined $took && time - $frozen_at < 8, "$label, frozen right after connecting: the call ends by the deadline"
		  . sprintf(' (%.2f s after the freeze)', time - $frozen_at));
	$handle->finish;
	like($$stderr, qr/connection "frozen": no answer from the server within 3000 ms/, "$label: named again");
	ok(wait_until_clean_workers($node, 5), "$label: no worker left");
	thaw();
	$remote->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE wait_event = 'PgSleep' AND application_name <> 'multidb'});
	$holder->finish;
	after_thaw_clean($node, "$label, right after connecting");

	# 3. No deadline of multidb's (statement_timeout 0): the caller's Ctrl-C and pg_terminate_backend end it
	# at once, even while the remote is frozen.
	for my $interruption ([ 'pg_cancel_backend', qr/canceling statement due to user request/ ],
		[ 'pg_terminate_backend', qr/terminating connection due to administrator command|server closed the connection/ ])
	{
		my ($function, $expected) = @$interruption;
		($handle, $stdout, $stderr) = background_fanout($node, $setting, "SET multidb.statement_timeout = 0",
			"SELECT * FROM multidb.fanout('SELECT pg_sleep(1) AS s', ARRAY['frozen'])");
		wait_for_remote("wait_event = 'PgSleep'");
		freeze();
		usleep(300_000);
		my $caller = backend_pid_running($node, 'pg_sleep(1)');
		my $asked_at = time;
		$node->safe_psql('postgres', "SELECT $function($caller)");
		$took = seconds_until_done($handle, 10);
		ok(defined $took && $took < 5, "$label, frozen, $function: the caller ends, not stuck on the frozen server"
			  . (defined $took ? sprintf(' (%.2f s)', $took) : ' (still waiting after 10 s)'));
		$handle->finish;
		like($$stderr, $expected, "$label, $function: the caller got the interruption");
		ok(wait_until_clean_workers($node, 5), "$label, $function: no worker left");
		after_thaw_clean($node, "$label, $function");
	}
}

is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['frozen'])"), '1',
	'the coordinator answers normally afterwards');
done_testing();

# True if no multidb worker runs on $node within $limit seconds.
sub wait_until_clean_workers
{
	my ($node, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return 1 if workers_of($node) == 0;
		usleep(20_000);
	}
	return 0;
}
