# 16 clients × 3 databases with kept connections (multidb.keep_connections) for 30 seconds, through pgbench: no
# failed call, each remote never holding more than one multidb session per client, a client's session the same
# remote backend throughout (its connections are reused, not reopened), and nothing left once the clients leave.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $clients = 16;
my $seconds = 30;
my @remotes = map { start_remote("r$_", conf => "max_connections = 60\n") } 1 .. 3;
my $coordinator = start_coordinator(conf => "max_connections = 60\n");
add_connection($coordinator, "r$_", $remotes[ $_ - 1 ]) for 1 .. 3;

my $script = tempdir(CLEANUP => 1) . '/call.sql';
open my $f, '>', $script or die $!;
print $f "SET multidb.keep_connections = on;\n"
  . "SELECT count(*) FROM multidb.fanout('SELECT id FROM items WHERE id <= 3', ARRAY['r1', 'r2', 'r3']);\n";
close $f;

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', $clients, '-j', 2, '-T', $seconds, '-f', $script,
		'-h', $coordinator->host, '-p', $coordinator->port, 'postgres' ],
	'>', \$out, '2>', \$err);

# While it runs: the most multidb sessions any remote holds, and how many distinct remote backends served r1.
my ($most, %r1_backends) = (0);
my $start = time;
while ($pgbench->pumpable && time - $start < $seconds + 30)
{
	for my $remote (@remotes)
	{
		my $n = $remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb'");
		$most = $n if $n > $most;
	}
	$r1_backends{$_} = 1 for split /\n/,
	  $remotes[0]->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE application_name = 'multidb'");
	usleep(250_000);
	$pgbench->pump_nb;
}
$pgbench->finish;
is($?, 0, 'pgbench ended well') or diag($err);
my ($done) = $out =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $out =~ /number of failed transactions: (\d+)/;
cmp_ok($done // 0, '>', 100, "calls made: " . ($done // 'none'));
is($failed // 0, 0, 'no call failed');
cmp_ok($most, '<=', $clients, "no remote held more than one session per client (most: $most)");
cmp_ok(scalar(keys %r1_backends), '<=', $clients + 2,
	'r1 was served by about one backend per client in all (connections reused, not reopened): ' . scalar(keys %r1_backends));
ok(defined wait_until_clean($coordinator, \@remotes, 10), 'no worker and no remote session left once the clients left');
diag(sprintf('%d clients x 3 databases, %d s: %s calls, %s failed; at most %d multidb sessions on one remote; r1 served by %d backends',
	$clients, $seconds, $done // '?', $failed // '?', $most, scalar(keys %r1_backends)));
done_testing();
