# The fan-out at fleet size: 120 tenant databases on 3 clusters, multidb.max_connections_per_host (8) far below
# the 100 databases of each cluster. Every tenant answers with its own count; no remote ever sees more of
# multidb's sessions than the bound; kept connections are reused within it; a dropped tenant is named in the
# ERROR, or skipped with a WARNING while the 119 others answer; a cancel mid-run returns within a second and
# leaves nothing on the remotes.
use strict;
use warnings;

use MultidbCluster;
use MultidbFleet;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $bound = 8;
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'multidb'\n"
	  . "multidb.max_connections_per_host = $bound\nmax_files_per_process = 150\n");
# 120 keeps the file quick (making the databases is most of its time); TAP 046 asks 300, bench/fleet.sh 1,000.
my $tenant_count = 120;
my $fleet = start_fleet($coordinator, tenants => $tenant_count, clusters => 3);
my @names = @{ $fleet->{names} };
my @remotes = @{ $fleet->{remotes} };
note(sprintf('%d tenant databases created in %.1f s, registered in %.1f s', $tenant_count,
	$fleet->{seconds}{create}, $fleet->{seconds}{register}));

my $expected = join "\n", map { "$_|$fleet->{orders}{$_}" } @names;
# 64 at a time would run, but 8 per cluster may: the others wait for a slot.
my $settings = 'SET multidb.max_workers = 64;';
my $count_sql = q{SELECT source_db, n FROM multidb.fanout_rows('SELECT count(*) FROM orders', ARRAY['@tenants'])
	AS t(source_db text, n int)};

# ---- every tenant, connections bounded, sampled while it runs -------------------------------------------------

# The DSM segments the backend has mapped (kB): a call's shared memory with its workers' queues.
sub dsm_kb_of
{
	my ($pid) = @_;
	open my $maps, '<', "/proc/$pid/maps" or return undef;
	my $kb = 0;
	while (<$maps>)
	{
		$kb += (hex($2) - hex($1)) / 1024 if m{^([0-9a-f]+)-([0-9a-f]+) .*/dev/shm/PostgreSQL\.};
	}
	return $kb;
}

my $slow_sql = q{SELECT source_db, n FROM multidb.fanout_rows('SELECT count(*) FROM orders, pg_sleep(0.05)',
	ARRAY['@tenants']) AS t(source_db text, n int)};
# A call over exactly the tenants whose connections the first call kept.
my $kept_sql = q{SELECT count(*), sum(n) FROM multidb.fanout_rows('SELECT count(*) FROM orders',
	(SELECT array_agg(connection) FROM multidb.open_connections())) AS t(source_db text, n int)};
my $start = time;
my ($handle, $stdout, $stderr) = background_fanout($coordinator, "$settings SET multidb.progress = on;",
	'SELECT pg_sleep(2) AS fleet_baseline', $slow_sql, "SELECT count(*) FROM multidb.open_connections()",
	$kept_sql, "SELECT count(*), min(calls) FROM multidb.open_connections()");
my ($max, $samples, $dsm_kb, $baseline_kb) = (0, 0, undef, undef);
while ($handle->pumpable)
{
	if (!defined $baseline_kb)
	{
		my $pid = backend_pid_running($coordinator, 'fleet_baseline');
		$baseline_kb = dsm_kb_of($pid) if $pid ne '';
	}
	for my $remote (@remotes)
	{
		my $n = remote_sessions_of_ours($remote);
		$max = $n if $n > $max;
	}
	if (defined $baseline_kb && !defined $dsm_kb)
	{
		my $pid = backend_pid_running($coordinator, 'pg_sleep(0.05)');
		$dsm_kb = dsm_kb_of($pid) if $pid ne '';
	}
	$samples++;
	$handle->pump_nb;
	usleep(10_000);
}
$handle->finish;
my $elapsed = time - $start;
note(sprintf('%d targets x 50 ms, then %d without, %d per cluster: %.2f s, %d samples, at most %d sessions on '
	  . 'a remote, %s kB of shared memory mapped', $tenant_count, $tenant_count, $bound, $elapsed, $samples, $max, $dsm_kb // '?'));
my @lines = split /\n/, $$stdout;
shift @lines;    # the baseline's empty pg_sleep
is(join("\n", @lines[0 .. $tenant_count - 1]), $expected,
	"fanout_rows over \@tenants: all $tenant_count tenants, each with its own count, in order")
  or diag($$stderr =~ s/NOTICE:  multidb progress.*?\n(DETAIL:.*?\n)?//gr);
cmp_ok($max, '<=', $bound, "no remote ever saw more than $bound of multidb's sessions");
cmp_ok($max, '>', 1, '... and they did run side by side');
# The connections still open when the last targets end are kept: as many as the bound allows (3 x 8), fewer when a
# target of a cluster still waited as one of its connections ended (it then made way).
my $kept = $lines[$tenant_count];
ok($kept > 0 && $kept <= 3 * $bound, "the call keeps connections, no more than the bound allows ($kept)");
like($lines[$tenant_count + 1], qr/^$kept\|\d+$/, 'a call over the tenants whose connections were kept answers');
is($lines[$tenant_count + 2], "$kept|2", '... through those connections, every one reused');
# No target of this call runs in a worker (kept connections run in the backend): no queue for any of its targets
# (64 kB each before: 7.5 MB for 120, 19 MB for 300). Cumulative statistics map shared memory of their own: the baseline.
ok(defined $dsm_kb && defined $baseline_kb && $dsm_kb - $baseline_kb < 1024,
	"a call run in the backend maps no worker queues for its $tenant_count targets")
  or diag('mapped: ' . ($dsm_kb // 'not seen') . ' kB during the call, ' . ($baseline_kb // 'not seen') . ' kB before');
my @done = $$stderr =~ /"event":"done"[^\n]*"finished":(\d+),"of":(\d+)/g;
is(scalar(@done) / 2, $tenant_count + $kept, 'progress: a done event per database and call, with the count finished');
my $half = $tenant_count / 2;
is("$done[2 * $half - 2]/$done[2 * $half - 1] $done[2 * $tenant_count - 2]/$done[2 * $tenant_count - 1] $done[-2]/$done[-1]",
	"$half/$tenant_count $tenant_count/$tenant_count $kept/$kept",
	"... the ${half}th of the first call says $half of $tenant_count, its last $tenant_count of $tenant_count; the next call counts its own");

# ---- a tenant that is gone ------------------------------------------------------------------------------------

# The last: the cancels below mean to end their calls before they reach it, but on a loaded machine the call
# can get there first (its connection refused at once) and its ERROR, not the cancel's, ends the statement: they
# run with on_error = warn, so that the one ERROR is the cancel's.
my $gone = $names[-1];
$remotes[ $fleet->{cluster_of}{$gone} ]->safe_psql('postgres', "DROP DATABASE $gone");
my ($rc, $out, $err) = $coordinator->psql('postgres', "$settings $count_sql");
isnt($rc, 0, 'a dropped tenant fails the call');
like($err, qr/ERROR:.*"$gone"/, '... and the ERROR names it');
($rc, $out, $err) = $coordinator->psql('postgres', "$settings SET multidb.on_error = warn; $count_sql");
is($out, join("\n", map { "$_|$fleet->{orders}{$_}" } grep { $_ ne $gone } @names),
	"with on_error = warn the @{[$tenant_count - 1]} others all answer");
like($err, qr/WARNING:.*"$gone"/, '... and the WARNING names the one that did not');

# ---- a cancel mid-run -----------------------------------------------------------------------------------------

sub cancel_mid_run
{
	my ($what, $setup, $sleep) = @_;
	my ($handle, $stdout, $stderr) = background_fanout($coordinator, "$setup SET multidb.on_error = warn;",
		qq{SELECT count(*) FROM multidb.fanout_rows('SELECT count(*) FROM orders, pg_sleep($sleep)', ARRAY['\@tenants'])
		  AS t(source_db text, n int)});
	my $pid;
	for (1 .. 500)
	{
		$pid = backend_pid_running($coordinator, "pg_sleep($sleep)");
		last if $pid ne '' && remote_sessions_of_ours($remotes[0]) > 0;
		usleep(10_000);
	}
	usleep(300_000);    # well into the run: some tenants done, some running, most waiting
	my $running = 0;
	$running += remote_sessions_of_ours($_) for @remotes;
	my $start = time;
	kill 'INT', $pid;    # what pg_cancel_backend() sends, without a psql's start-up in the time measured
	$handle->finish;
	my $returned = time - $start;
	note(sprintf('%s: cancelled with %d remote sessions open, returned in %.2f s', $what, $running, $returned));
	cmp_ok($returned, '<', 1, "$what: a cancel mid-run returns within a second");
	like($$stderr, qr/canceling statement due to user request/, "$what: ... as a cancel");
	# The remotes end their sessions as they read the cancel and the closed connection; each look costs four
	# psql runs (slow on a loaded machine), so the bound is loose: what it catches is a session left behind.
	my $clean = wait_until_clean($coordinator, \@remotes, 5);
	ok(defined $clean && $returned + $clean < 3,
		"$what: ... and no session of multidb is left on any remote, no worker")
	  or diag('clean ' . ($clean // 'never') . ' s after the call returned');
	return;
}

cancel_mid_run('8 per cluster', $settings, 0.2);

# ---- a thousand sockets would not fit: in-backend targets wait for a descriptor -------------------------------

# max_files_per_process = 150 leaves this backend about 45 descriptors for remote connections; with no bound
# per host and multidb.max_workers = 0 (every target in the backend at once), the 120 targets take turns.
$coordinator->safe_psql('postgres',
	'ALTER SYSTEM SET multidb.max_connections_per_host = 0; SELECT pg_reload_conf()');
($rc, $out, $err) = $coordinator->psql('postgres',
	"SET multidb.keep_connections = off; SET multidb.max_workers = 0; SET multidb.on_error = warn; $count_sql");
is($out, join("\n", map { "$_|$fleet->{orders}{$_}" } grep { $_ ne $gone } @names),
	"$tenant_count targets in the backend at once, with descriptors for about 45: all answer, taking turns");
unlike($err, qr/file descriptor/, '... none fails for want of a descriptor');
like($err, qr/WARNING:.*"$gone"/, '... and only the dropped tenant warns');
cancel_mid_run('as many at once as descriptors allow', 'SET multidb.keep_connections = off; SET multidb.max_workers = 0;', 1);

done_testing();
