# 100 tenant databases on three clusters as one group, with multidb preloaded and
# multidb.max_connections_per_host = 4 — far fewer than the 33 or 34 databases on each cluster, whose
# max_connections (12) could not take one connection per database: every tenant answers, tagged and in order;
# no remote ever holds more than 4 multidb sessions, even with two sessions fanning out at once (the bound is
# the coordinator's, not the session's); a session's second call reuses the connections its first one kept;
# a call short of a slot that another session's idle kept connections hold wakes that session, which lets them
# go; a call waiting for slots in use is ended by its statement_timeout and leaves no claim behind; nothing is
# left afterwards.
use strict;
use warnings;

use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $bound = 4;
my @remotes = map { start_remote("c$_", conf => "max_connections = 12\nlog_connections = on\n") } 1 .. 3;
my $coordinator = start_coordinator(
	conf => "shared_preload_libraries = 'multidb'\nmultidb.max_connections_per_host = $bound\n");

# tenant_001 .. tenant_100, dealt round the clusters; each database's view tells its number.
my @tenants = map { sprintf('tenant_%03d', $_) } 1 .. 100;
sub cluster_of_tenant { my ($i) = @_; return $remotes[ ($i - 1) % 3 ]; }
for my $remote (@remotes)
{
	$remote->safe_psql('template1',
		"CREATE VIEW tenant AS SELECT substr(current_database(), 8)::int AS n; GRANT SELECT ON tenant TO reader;");
}
# One psql per cluster, the three at once, each database a file copy of template1 (the default strategy writes
# each one's every page to the WAL: most of the file's set-up time); registered without a trial connection each,
# which the first call below makes anyway.
my @creating;
for my $c (0 .. 2)
{
	my $sql = join '', map { "CREATE DATABASE $tenants[$_ - 1] STRATEGY FILE_COPY;\n" } grep { ($_ - 1) % 3 == $c } 1 .. 100;
	my $err = '';
	push @creating, [ IPC::Run::start([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $remotes[$c]->connstr('postgres') ],
		'<', \$sql, '>', \my $out, '2>', \$err), \$err ];
}
$_->[0]->finish or die "creating the tenant databases failed: ${ $_->[1] }" for @creating;
$coordinator->safe_psql('postgres', join("\n",
	(map { "SELECT multidb.add_connection('$tenants[$_ - 1]', 'host=127.0.0.1 port=" . cluster_of_tenant($_)->port
		  . " dbname=$tenants[$_ - 1] user=reader password=secret', validate => false);" } 1 .. 100),
	"SELECT multidb.create_group('tenants', ARRAY[" . join(',', map {"'$_'"} @tenants) . "]);"));

# Long-lived coordinator sessions, each driven statement by statement.
my %sessions;
sub open_session
{
	my ($name) = @_;
	my $s = { in => '', out => '', err => '', marker => 0 };
	$s->{handle} = IPC::Run::start([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d', $coordinator->connstr('postgres') ],
		'<', \$s->{in}, '>', \$s->{out}, '2>', \$s->{err});
	$sessions{$name} = $s;
	return;
}
sub send_to
{
	my ($name, $sql) = @_;
	my $s = $sessions{$name};
	$s->{marker}++;
	$s->{out} = '';
	$s->{err} = '';
	$s->{in} .= "$sql\n\\echo __done_$s->{marker}__\n";
	return;
}
sub answered { my ($name) = @_; my $s = $sessions{$name}; $s->{handle}->pump_nb; return $s->{out} =~ /__done_$s->{marker}__/; }
sub answer_of { my ($name) = @_; my $s = $sessions{$name}; (my $out = $s->{out}) =~ s/__done_\d+__\n?//; chomp $out; return $out; }

# The most multidb sessions any remote held while the named sessions' statements ran.
sub run_sampling
{
	my (@names) = @_;
	my $most = 0;
	my $start = time;
	while (grep { !answered($_) } @names)
	{
		die 'calls still running after 120 s' if time - $start > 120;
		for my $remote (@remotes)
		{
			my $n = $remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb'");
			$most = $n if $n > $most;
		}
		usleep(20_000);
	}
	return $most;
}
sub run_in
{
	my ($name, $sql) = @_;
	send_to($name, $sql);
	my $start = time;
	until (answered($name)) { die "no answer to $sql" if time - $start > 120; usleep(10_000); }
	return answer_of($name);
}
sub connections_opened
{
	my ($offsets) = @_;
	my $n = 0;
	for my $i (0 .. 2)
	{
		$n += () = substr(slurp_file($remotes[$i]->logfile), $offsets->[$i]) =~ /connection authorized: user=reader/g;
	}
	return $n;
}
sub log_offsets { return [ map { -s $_->logfile } @remotes ]; }

my $call = "SELECT count(*), sum((row_data->>'n')::int), "
  . "string_agg(source_db, ',' ORDER BY ordinality) = '" . join(',', @tenants) . "' "
  . "FROM multidb.fanout('SELECT n FROM tenant', ARRAY['\@tenants']) WITH ORDINALITY";

# 1. One session: every tenant, the bound held throughout.
open_session('a');
send_to('a', "$call;");
my $most = run_sampling('a');
my %figures = (one => $most);
is(answer_of('a'), '100|5050|t', '100 tenants on three clusters: every one answers, tagged, in connection order');
cmp_ok($most, '<=', $bound, "no remote held more than $bound multidb sessions (most: $most)");
cmp_ok($most, '>', 1, '... and the call did use several at once');
is(run_in('a', 'SELECT count(*) FROM multidb.open_connections();'), 3 * $bound,
	"afterwards the session keeps $bound connections per cluster, the bound's worth");
is(run_in('a', 'SELECT string_agg(format($$%s %s %s %s$$, open, waiting, max_connections_per_host, shared::text), $$,$$ ORDER BY cluster) FROM multidb.connection_slots();'),
	join(',', ("$bound 0 $bound true") x 3), '... counted in shared memory: connection_slots() shows each cluster full, nobody waiting');

# 2. The second call reuses them: 12 of its 100 targets open no connection.
my $offsets = log_offsets();
send_to('a', "$call;");
$most = run_sampling('a');
is(answer_of('a'), '100|5050|t', 'the second call: the same rows');
$figures{second} = connections_opened($offsets);
is($figures{second}, 100 - 3 * $bound, '... opening a connection only for the targets that had none kept');
cmp_ok($most, '<=', $bound, "... within the bound (most: $most)");

# 3. Two sessions at once: the bound is the coordinator's.
open_session('b');
send_to($_, "$call;") for 'a', 'b';
$most = run_sampling('a', 'b');
$figures{two} = $most;
is(answer_of('a') . ' ' . answer_of('b'), '100|5050|t 100|5050|t', 'two sessions at once: both get every tenant');
cmp_ok($most, '<=', $bound, "... and no remote held more than $bound multidb sessions from both (most: $most)");

# 4. Session a keeps the four connections of cluster c1 idle and then runs nothing: session c, short of a slot
# there, wakes it, and a lets them go — the call goes through at once, not after multidb.idle_connection_timeout.
run_in('b', 'SELECT multidb.disconnect();');
my $c1_four = "ARRAY['tenant_001', 'tenant_004', 'tenant_007', 'tenant_010']";
run_in('a', "SELECT multidb.disconnect(); SELECT count(*) FROM multidb.fanout('SELECT 1', $c1_four);");
is(run_in('a', "SELECT count(*) FROM multidb.open_connections() WHERE connection = ANY ($c1_four);"),
	'4', 'session a keeps four idle connections to cluster c1');
open_session('c');
my $start = time;
is(run_in('c', "SELECT source_db FROM multidb.fanout('SELECT 1', ARRAY['tenant_013']);"), 'tenant_013',
	'session c, short of a slot of c1 held by idle session a, is answered');
my $took = time - $start;
$figures{woken} = $took;
cmp_ok($took, '<', 5, sprintf('... at once: a was woken and let its idle connections go (%.2f s)', $took));
cmp_ok(run_in('a', "SELECT count(*) FROM multidb.open_connections() WHERE connection = ANY ($c1_four);"), '<', 4,
	'... as session a shows');

# 5. Slots in use by a running call: a waiting call is ended by its statement_timeout, and its wait leaves no
# claim behind.
run_in('c', 'SELECT multidb.disconnect();');
send_to('a', "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(4)', $c1_four);");
$start = time;
until ($coordinator->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid()") eq '1'
	  && $remotes[0]->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb' AND state = 'active'") eq '4')
{
	die 'the sleeping call did not start' if time - $start > 30;
	$sessions{a}{handle}->pump_nb;
	usleep(20_000);
}
$start = time;
run_in('c', "SET statement_timeout = '1s'; SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['tenant_016']);");
$took = time - $start;
like($sessions{c}{err}, qr/canceling statement due to statement timeout/, 'a call waiting for slots in use: statement_timeout ends the wait');
cmp_ok($took, '<', 4, sprintf('... by the timeout, not when the slots came free (%.1f s)', $took));
$start = time;
until (answered('a')) { die 'the sleeping call did not end' if time - $start > 30; usleep(20_000); }
is(answer_of('a'), '4', 'the call holding the slots ends normally');
is(run_in('a', "SELECT count(*) FROM multidb.open_connections() WHERE connection = ANY ($c1_four);"), '4',
	'... and keeps its connections: the timed-out wait left no claim behind');
is(run_in('c', "RESET statement_timeout; SELECT count(*) FROM multidb.open_connections();"), '0', '... nor anything in session c');

# 6. Sessions gone: nothing left.
for my $s (values %sessions) { $s->{in} .= "\\q\n"; $s->{handle}->finish; }
ok(defined wait_until_clean($coordinator, \@remotes, 10), 'no worker and no remote session left once the sessions ended');
diag(sprintf('100 tenants on 3 clusters, bound %d: at most %d multidb sessions on one remote with one session, %d with two; '
	  . 'the second call opened %d connections; a call behind an idle holder answered in %.2f s',
	$bound, $figures{one}, $figures{two}, $figures{second}, $figures{woken}));
done_testing();
