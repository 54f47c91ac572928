# multidb.keep_connections: a connection is reused by the next call for the same server and user mapping — and
# never after a failed or cancelled call, across a changed server, user mapping or USAGE, or when the remote
# restarted (then a new one is made once, before the statement); kept connections are listed and closed on request.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my @remotes = map { start_remote("r$_") } 1 .. 2;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[ $_ - 1 ]) for 1 .. 2;

# Several calls in one coordinator session, each printing its rows, then what the session keeps.
my $keep = 'SET multidb.keep_connections = on';
my $call = "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1', 'r2'])";

# 1. On by default; turned off, nothing outlives a call.
is($coordinator->safe_psql('postgres', "LOAD 'multidb'; SHOW multidb.keep_connections"), 'on', 'kept connections are the default');
is($coordinator->safe_psql('postgres', "SET multidb.keep_connections = off; $call; $call"), "2\n2", 'off: the calls answer');
ok($remotes[0]->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'... and leave no remote session');

# 2. With it, one session's calls share one connection per remote.
my $session = sub {
	my (@statements) = @_;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ', $keep, @statements));
	return ($stdout, $stderr);
};
my ($stdout, $stderr) = $session->($call, "SELECT pg_sleep(0.1)", $call,
	"SELECT connection || ':' || calls FROM multidb.open_connections() ORDER BY 1");
is($stdout, "2\n\n2\nr1:2\nr2:2", 'keep_connections: two calls, one kept connection per remote, each serving both') or diag($stderr);
($stdout, $stderr) = $session->($call, "SELECT remote_user || ' ' || (remote_pid = (SELECT (row_data->>'pid')::int "
	  . "FROM multidb.fanout('SELECT pg_backend_pid() AS pid', ARRAY['r1']))) FROM multidb.open_connections() WHERE connection = 'r1'");
is((split /\n/, $stdout)[-1], 'reader true', "open_connections() names the remote role and the remote backend's pid") or diag($stderr);
ok($remotes[0]->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'the kept connections close when the coordinator session ends');

# The remote sees the same backend for both calls.
my $pids = q{(SELECT string_agg(row_data->>'pid', ',') FROM multidb.fanout('SELECT pg_backend_pid() AS pid', ARRAY['r1']))};
($stdout, $stderr) = $session->("SELECT $pids", "SELECT $pids");
my ($first, $second) = split /\n/, $stdout;
ok(defined $second && $first eq $second, "the second call ran on the first call's remote backend ($first)") or diag($stderr);

# 3. Not after a failed call.
($stdout, $stderr) = $session->("SELECT $pids",
	"DO \$\$ BEGIN PERFORM * FROM multidb.fanout('SELECT 1 / 0', ARRAY['r1']); EXCEPTION WHEN division_by_zero THEN NULL; END \$\$",
	"SELECT $pids");
($first, $second) = split /\n/, $stdout;
ok(defined $second && $first ne $second, 'after a failed call, a new connection') or diag($stderr);

# 4. Not after a cancelled one (statement_timeout mid-query).
($stdout, $stderr) = $session->("SELECT $pids",
	"SET statement_timeout = '300ms'",
	"DO \$\$ BEGIN PERFORM * FROM multidb.fanout('SELECT pg_sleep(5)', ARRAY['r1']); EXCEPTION WHEN query_canceled THEN NULL; END \$\$",
	"RESET statement_timeout", "SELECT $pids");
($first, $second) = split /\n/, $stdout;
ok(defined $second && $first ne $second, 'after a cancelled call, a new connection') or diag($stderr);

# 5. A changed user mapping closes the kept connection; the next call uses the new one.
($stdout, $stderr) = $session->("SELECT $pids",
	"ALTER USER MAPPING FOR CURRENT_USER SERVER r1 OPTIONS (SET password 'secret')",
	"SELECT count(*) FROM multidb.open_connections() WHERE connection = 'r1'", "SELECT $pids");
my @lines = split /\n/, $stdout;
is($lines[1], '0', 'ALTER USER MAPPING: the kept connection is closed at once') or diag($stderr);
ok($lines[0] ne $lines[2], '... and the next call connects anew');

# 5b. So does ALTER SERVER; a role that loses USAGE or its user mapping cannot use the connection it kept.
($stdout, $stderr) = $session->("SELECT $pids",
	"ALTER SERVER r1 OPTIONS (ADD connect_timeout '10')",
	"SELECT count(*) FROM multidb.open_connections() WHERE connection = 'r1'", "SELECT $pids");
@lines = split /\n/, $stdout;
is($lines[1], '0', 'ALTER SERVER: the kept connection is closed at once') or diag($stderr);
ok(defined $lines[2] && $lines[0] ne $lines[2], '... and the next call connects anew') or diag($stderr);

$coordinator->safe_psql('postgres', "CREATE ROLE carol LOGIN; GRANT USAGE ON FOREIGN SERVER r1 TO carol; "
	  . "CREATE USER MAPPING FOR carol SERVER r1 OPTIONS (user 'reader', password 'secret')");
my $as_carol = sub {
	my (@statements) = @_;
	my ($ret, $out, $err) = $coordinator->psql('postgres', join('; ', 'SET ROLE carol', @statements),
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($out, $err);
};

# Two local roles whose mappings name the same remote role still never share a kept connection.
($stdout, $stderr) = $session->("SELECT $pids", 'SET ROLE carol', "SELECT $pids", "SELECT $pids", 'RESET ROLE', "SELECT $pids");
my ($own_first, $carol_first, $carol_second, $own_second) = split /\n/, $stdout;
ok(defined $own_second && $own_first eq $own_second && $carol_first eq $carol_second && $own_first ne $carol_first,
	'each user mapping keeps its own connection, even to the same remote role') or diag($stdout, $stderr);

my $kept_r1 = "SELECT count(*) FROM multidb.open_connections() WHERE connection = 'r1'";
($stdout, $stderr) = $as_carol->("SELECT $pids", $kept_r1, 'RESET ROLE', 'REVOKE USAGE ON FOREIGN SERVER r1 FROM carol',
	'SET ROLE carol', $kept_r1, "SELECT $pids");
is($stdout, join("\n", (split /\n/, $stdout)[0], 1, 0), 'REVOKE USAGE: the kept connection is closed at once') or diag($stderr);
like($stderr, qr/ERROR:  42501: permission denied for connection "r1"/, '... and the next call is refused');

$coordinator->safe_psql('postgres', 'GRANT USAGE ON FOREIGN SERVER r1 TO carol');
($stdout, $stderr) = $as_carol->("SELECT $pids", 'RESET ROLE', 'DROP USER MAPPING FOR carol SERVER r1',
	'SET ROLE carol', $kept_r1, "SELECT $pids");
is((split /\n/, $stdout)[1], '0', 'DROP USER MAPPING: the kept connection is closed at once') or diag($stderr);
like($stderr, qr/ERROR:  42704: connection "r1" has no user mapping for role "carol"/, '... and the next call is refused');
ok($remotes[0]->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'no remote session left behind by either');
$coordinator->safe_psql('postgres', 'REVOKE USAGE ON FOREIGN SERVER r1 FROM carol; DROP ROLE carol');

# 6. A remote restarted between calls: connected anew, transparently, before the statement ran.
my ($restart_handle, $restart_out, $restart_err) = background_fanout($coordinator, $keep,
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])", 'SELECT pg_sleep(2)',
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])",
	"SELECT connection || ':' || calls FROM multidb.open_connections()");
usleep(700_000);
$remotes[0]->restart;
$restart_handle->finish;
is($$restart_out =~ s/\n+\z//r, "1\n\n1\nr1:1", 'a remote restarted while the connection was idle: the next call still answers, on a new connection')
  or diag($$restart_err);

# 7. Listed and closed on request.
($stdout, $stderr) = $session->($call, 'SELECT multidb.disconnect(\'r1\')', 'SELECT string_agg(connection, \',\') FROM multidb.open_connections()',
	'SELECT multidb.disconnect()', 'SELECT count(*) FROM multidb.open_connections()');
is($stdout, "2\n1\nr2\n1\n0", 'disconnect(name) closes that one, disconnect() the rest') or diag($stderr);
($stdout, $stderr) = $session->("SELECT multidb.disconnect('nowhere')");
like($stderr, qr/connection "nowhere" does not exist/, 'an unknown name is an error');

# 8. A remote frozen (SIGSTOP) while a kept connection to it is idle: the next call ends by the deadlines (the
# reply deadline on the kept connection, then the connect deadline of the one new attempt), naming it.
$coordinator->safe_psql('postgres', "ALTER SERVER r2 OPTIONS (ADD connect_timeout '2')");
sub remote_pids
{
	my ($node) = @_;
	my $postmaster = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
	return ($postmaster, grep { /^\d+$/ } split /\s+/, `pgrep -P $postmaster`);
}
my ($frozen_handle, $frozen_out, $frozen_err) = background_fanout($coordinator, $keep,
	"SET multidb.statement_timeout = '2s'", "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r2'])",
	'SELECT pg_sleep(1)', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r2'])");
usleep(500_000);
kill 'STOP', remote_pids($remotes[1]);
my $frozen_at = Time::HiRes::time();
my $ended = 0;
while (Time::HiRes::time() - $frozen_at < 15) { if (!$frozen_handle->pumpable) { $ended = 1; last; } usleep(50_000); $frozen_handle->pump_nb; }
my $took = Time::HiRes::time() - $frozen_at;
kill 'CONT', remote_pids($remotes[1]);
$frozen_handle->finish;
ok($ended && $took < 12, sprintf('frozen with a kept connection idle: the call ends by the deadlines (%.1f s)', $took));
like($$frozen_err, qr/connection "r2": (no answer from the server within 3000 ms|could not connect within 2 s)/, '... naming the connection');

# 9. multidb.max_connections_per_host: two connections to databases of one cluster, bound 1: one after the other,
# both answering, in order.
add_connection($coordinator, 'r1_again', $remotes[0]);
my $start = Time::HiRes::time();
# The bound is the server's (PGC_SIGHUP); without shared_preload_libraries it holds per session.
$coordinator->safe_psql('postgres', "LOAD 'multidb'; ALTER SYSTEM SET multidb.max_connections_per_host = 1; SELECT pg_reload_conf()");
$coordinator->poll_query_until('postgres', "LOAD 'multidb'; SELECT current_setting('multidb.max_connections_per_host') = '1'", "LOAD\nt")
  or die 'the reload was not seen';
is($coordinator->safe_psql('postgres', "SELECT source_db FROM multidb.fanout('SELECT pg_sleep(0.5)', ARRAY['r1', 'r1_again', 'r2'])"),
	"r1\nr1_again\nr2", 'bound 1 per cluster: every target answers, in order');
cmp_ok(Time::HiRes::time() - $start, '>=', 1.0, '... the two on one cluster one after the other');
my ($set_ret, $set_out, $set_err) = $coordinator->psql('postgres', 'SELECT multidb.disconnect(); SET multidb.max_connections_per_host = 5');
like($set_err, qr/cannot be changed now/, '... and no session sets its own');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1', 'r2']); "
	  . "SELECT string_agg(format('%s %s %s', open, max_connections_per_host, shared::text), ',') FROM multidb.connection_slots()"),
	"2\n1 1 false,1 1 false", '... counted per session without shared_preload_libraries: connection_slots() says so');
$coordinator->safe_psql('postgres', 'CREATE ROLE onlooker');
my ($slots_ret, $slots_out, $slots_err) = $coordinator->psql('postgres', 'SET ROLE onlooker; SELECT * FROM multidb.connection_slots()');
like($slots_err, qr/permission denied for function connection_slots/, '... which is for pg_read_all_stats members');
$coordinator->safe_psql('postgres', "LOAD 'multidb'; ALTER SYSTEM RESET multidb.max_connections_per_host; SELECT pg_reload_conf()");
$coordinator->poll_query_until('postgres', "LOAD 'multidb'; SELECT current_setting('multidb.max_connections_per_host') = '0'", "LOAD\nt")
  or die 'the reload was not seen';

# 10. Rows and order are the same as without the setting.
is($coordinator->safe_psql('postgres', "$keep; SELECT source_db, row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['r2', 'r1'])"),
	"r2|100\nr1|100", 'the same rows, in connection order');
ok(defined wait_until_clean($coordinator, \@remotes, 5), 'no worker and no remote session left afterwards');
done_testing();
