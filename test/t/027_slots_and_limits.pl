# The limits a remote's DBA sets, and the bound on connections per remote cluster, hold:
#  1. a remote role's own statement_timeout is never raised by multidb, only lowered (also on a kept connection
#     an earlier call lowered it on, with workers and in the backend); a superuser's
#     multidb.max_statement_timeout caps what a role may set, on the remote and for multidb's own deadline; a
#     hostile remote search_path or public objects change nothing of it;
#  2. servers spelling one cluster differently (a name, an address, hostaddr under another name, a unix socket)
#     share one count of multidb.max_connections_per_host;
#  3. a session holding idle kept connections lets them go for a waiting session within a second, even while it
#     runs a long statement, sits idle inside a transaction, or runs a long statement of a later transaction;
#     one idle past multidb.idle_connection_timeout is closed while a statement runs;
#  4. REVOKE USAGE and DROP USER MAPPING committed elsewhere refuse the very next call inside a transaction and
#     close its kept connection.
use strict;
use warnings;

use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $bound = 2;
my @figures;  # printed at the end
my $limits = start_remote('limits');
my $remote = start_remote('slots');
my $port = $remote->port;
my $coordinator = start_coordinator(
	conf => "shared_preload_libraries = 'multidb'\nmultidb.max_connections_per_host = $bound\n");
add_connection($coordinator, 'lim', $limits);

# Long-lived coordinator sessions, each driven statement by statement (errors with their SQLSTATE).
my %sessions;
sub open_session
{
	my ($name, @setup) = @_;
	my $s = { in => '', out => '', err => '', marker => 0 };
	$s->{handle} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-v', 'VERBOSITY=verbose', '-d', $coordinator->connstr('postgres') ],
		'<', \$s->{in}, '>', \$s->{out}, '2>', \$s->{err});
	$sessions{$name} = $s;
	$s->{pid} = run_in($name, 'SELECT pg_backend_pid();');
	run_in($name, $_) for @setup;
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
	$s->{handle}->pump_nb;
	return;
}
sub answered { my ($name) = @_; my $s = $sessions{$name}; $s->{handle}->pump_nb; return $s->{out} =~ /__done_$s->{marker}__/; }
sub answer_of { my ($name) = @_; my $s = $sessions{$name}; (my $out = $s->{out}) =~ s/__done_\d+__\n?//; chomp $out; return $out; }
sub error_of { my ($name) = @_; return $sessions{$name}{err}; }
sub wait_answer
{
	my ($name, $limit) = @_;
	my $start = time;
	until (answered($name)) { die "session $name: no answer after $limit s" if time - $start > $limit; usleep(5_000); }
	return time - $start;
}
sub run_in { my ($name, $sql) = @_; send_to($name, $sql); wait_answer($name, 120); return answer_of($name); }
sub close_session { my ($name) = @_; my $s = delete $sessions{$name}; $s->{in} .= "\\q\n"; $s->{handle}->finish; return; }

sub ours_on { my ($node) = @_; return $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb'"); }
# Seconds until $node holds no session of ours, or undef after $limit.
sub seconds_until_none_on
{
	my ($node, $limit) = @_;
	my $start = time;
	while (time - $start < $limit) { return time - $start if ours_on($node) == 0; usleep(20_000); }
	return undef;
}
# The coordinator's own view of the bound: clusters with a connection open or a target waiting.
sub slots { return $coordinator->safe_psql('postgres', "SELECT coalesce(string_agg(format('%s %s %s', cluster, open, waiting), ',' ORDER BY cluster), '') FROM multidb.connection_slots()"); }

# A statement in a new coordinator session: its output, its errors and how long it took.
sub timed
{
	my ($sql) = @_;
	my $start = time;
	my ($ret, $out, $err) = $coordinator->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($out, $err, time - $start);
}

# ---- 1. The remote's own statement_timeout ------------------------------------------------------------------
my $sleep8 = "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(8)', ARRAY['lim'])";
my $remote_timeout = qr/ERROR:  57014: connection "lim": canceling statement due to statement timeout/;
$limits->safe_psql('postgres', "ALTER ROLE reader SET statement_timeout = '2s'");
for my $path ([ 'in the backend', 'on' ], [ 'with workers', 'off' ])
{
	my ($label, $keep) = @$path;
	my ($out, $err, $took) = timed("SET multidb.keep_connections = $keep; SET multidb.statement_timeout = 0; $sleep8");
	like($err, $remote_timeout, "$label: the remote role's statement_timeout (2s) holds with multidb.statement_timeout = 0");
	cmp_ok($took, '<', 6, sprintf("... the remote ended the 8 s sleep by its own limit (%.1f s)", $took));
	push @figures, sprintf("remote role's 2 s limit %s: %.1f s", $label, $took);
}
my ($out, $err, $took) = timed("SET multidb.statement_timeout = '30s'; SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['lim']); "
	  . "SELECT calls FROM multidb.open_connections(); SET multidb.statement_timeout = 0; $sleep8");
like($err, $remote_timeout, "a kept connection an earlier call lowered the limit on: the remote's own default is read again");
cmp_ok($took, '<', 6, sprintf('... not the one the earlier call set, nor none (%.1f s)', $took));
is((split /\n/, $out)[1], '1', '... it was the kept connection');

$limits->safe_psql('postgres', "ALTER ROLE reader SET statement_timeout = '60s'");
($out, $err, $took) = timed("SET multidb.statement_timeout = '1s'; $sleep8");
like($err, $remote_timeout, 'a lower multidb.statement_timeout still lowers the remote limit (60s)');
cmp_ok($took, '<', 6, sprintf('... to 1 s (%.1f s)', $took));

# A superuser's cap: a role cannot turn multidb.statement_timeout off or above it.
$coordinator->safe_psql('postgres', q{CREATE ROLE dave; GRANT USAGE ON FOREIGN SERVER lim TO dave;
	CREATE USER MAPPING FOR dave SERVER lim OPTIONS (user 'reader', password 'secret')});
my ($cap_ret, $cap_out, $cap_err) = $coordinator->psql('postgres', "ALTER DATABASE postgres SET multidb.max_statement_timeout = '2s'");
is($cap_err, '', 'a superuser sets multidb.max_statement_timeout for the database');
($out, $err, $took) = timed("SET ROLE dave; SET multidb.statement_timeout = 0; SHOW multidb.statement_timeout; $sleep8");
like($err, $remote_timeout, 'a role that sets multidb.statement_timeout = 0 under max_statement_timeout = 2s: the remote stops at the cap');
cmp_ok($took, '<', 6, sprintf('... (%.1f s)', $took));
($out, $err, $took) = timed("SET ROLE dave; SET multidb.max_statement_timeout = 0");
like($err, qr/42501: permission denied to set parameter "multidb.max_statement_timeout"/, '... and cannot lift the cap');

# The cap is multidb's own deadline too: a remote frozen mid-statement ends the call after 2 s + 1 s of grace.
sub remote_pids
{
	my ($node) = @_;
	my $postmaster = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
	return ($postmaster, grep { /^\d+$/ } split /\s+/, `pgrep -P $postmaster`);
}
for my $path ([ 'in the backend', 'on' ], [ 'with workers', 'off' ])
{
	my ($label, $keep) = @$path;
	my ($handle, $stdout, $stderr) = background_fanout($coordinator, 'SET ROLE dave', "SET multidb.keep_connections = $keep",
		'SET multidb.statement_timeout = 0', "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(20)', ARRAY['lim'])");
	$limits->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'multidb' AND wait_event = 'PgSleep'")
	  or die 'the sleep never started';
	kill 'STOP', remote_pids($limits);
	my $frozen_at = time;
	my $ended = 0;
	while (time - $frozen_at < 12) { if (!$handle->pumpable) { $ended = 1; last; } usleep(20_000); eval { $handle->pump_nb }; }
	$took = time - $frozen_at;
	kill 'CONT', remote_pids($limits);
	$handle->kill_kill unless $ended;
	$handle->finish;
	ok($ended && $took < 8, sprintf("$label, remote frozen, multidb.statement_timeout = 0 under the cap: multidb's own deadline ends the call (%.1f s)", $took));
	push @figures, sprintf("frozen remote under the 2 s cap %s: ended %.1f s after the freeze", $label, $took);
	like($$stderr, qr/connection "lim": no answer from the server within 3000 ms/, '... the cap plus the grace');
	ok(defined seconds_until_none_on($limits, 15), '... and no session of ours is left on the thawed remote');
}
$coordinator->safe_psql('postgres', 'ALTER DATABASE postgres RESET multidb.max_statement_timeout');

# What the set-up computes cannot be turned by the remote's search_path or objects in its public schema (lookalikes
# of what it calls, IMMUTABLE as a careful attacker would make them, so that no wall refuses the remote for them).
$limits->safe_psql('postgres', q{
	CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hijacked'::text $$;
	CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '1d'::text $$;
	CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '1d'::text $$;
	CREATE FUNCTION public.interval_gt(interval, interval) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT false $$;
	CREATE FUNCTION public.interval_lt(interval, interval) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT false $$;
	CREATE FUNCTION public.interval_eq(interval, interval) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT false $$;
	CREATE FUNCTION public.texteq(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT false $$;
	CREATE FUNCTION public.least(interval, interval) RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT '1d'::interval $$;
	CREATE FUNCTION public.int4smaller(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 0 $$;
	CREATE OPERATOR public.< (LEFTARG = interval, RIGHTARG = interval, FUNCTION = public.interval_lt);
	CREATE OPERATOR public.> (LEFTARG = interval, RIGHTARG = interval, FUNCTION = public.interval_gt);
	CREATE OPERATOR public.= (LEFTARG = interval, RIGHTARG = interval, FUNCTION = public.interval_eq);
	CREATE DOMAIN public.int4 AS text;
	ALTER ROLE reader SET search_path = public, pg_catalog;
});
($out, $err, $took) = timed("SET multidb.statement_timeout = '1s'; $sleep8");
like($err, $remote_timeout, 'hostile public objects and search_path: a lower multidb.statement_timeout still lowers the remote limit');
cmp_ok($took, '<', 6, sprintf('... (%.1f s)', $took));
$limits->safe_psql('postgres', "ALTER ROLE reader SET statement_timeout = '2s'");
($out, $err, $took) = timed("SET multidb.statement_timeout = '1h'; $sleep8");
like($err, $remote_timeout, '... and the remote role\'s lower limit still holds under a higher one');
cmp_ok($took, '<', 6, sprintf('... (%.1f s)', $took));

# ---- 2. One cluster, four spellings ------------------------------------------------------------------------
$remote->safe_psql('postgres', 'CREATE DATABASE db2; CREATE DATABASE db3');
my $socket_dir = $remote->host;
my %spelling = (
	by_name     => "host=localhost port=$port dbname=postgres",
	by_address  => "host=127.0.0.1 port=$port dbname=db2",
	by_hostaddr => "host=remote.invalid hostaddr=127.0.0.1 port=$port dbname=db3",
	by_socket   => "host=$socket_dir port=$port dbname=postgres",
);
$coordinator->safe_psql('postgres', join("\n",
	map { "SELECT multidb.add_connection('$_', '$spelling{$_} user=reader password=secret');" } sort keys %spelling));
my $four = "ARRAY['by_name', 'by_address', 'by_hostaddr', 'by_socket']";
open_session($_) for 'a', 'b';
send_to($_, "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(0.5)', $four);") for 'a', 'b';
my $most = 0;
my $start = time;
while (grep { !answered($_) } 'a', 'b')
{
	die 'the calls still run after 60 s' if time - $start > 60;
	my $n = ours_on($remote);
	$most = $n if $n > $most;
	usleep(20_000);
}
is(answer_of('a') . ' ' . answer_of('b'), '4 4', 'two sessions, four servers spelling one cluster four ways: every target answers')
  or diag(error_of('a'), error_of('b'));
cmp_ok($most, '<=', $bound, "... and the remote never held more than $bound sessions of ours (most: $most)");
push @figures, "four spellings of one cluster, two sessions, bound $bound: at most $most sessions on the remote";
cmp_ok($most, '>', 0, '... (it was sampled while they ran)');
like(slots(), qr/^local:$port \d+ 0$/, 'connection_slots() shows the one cluster, named by its address');
run_in($_, 'SELECT multidb.disconnect();') for 'a', 'b';

# ---- 3. Idle holders give way within a second ------------------------------------------------------------
# Three servers spelled alike, so that only the holder's behaviour is on trial here: session a keeps h1 and h2,
# role erin in session w waits for a slot for w1.
$coordinator->safe_psql('postgres', join("\n",
	(map { "SELECT multidb.add_connection('$_->[0]', 'host=127.0.0.1 port=$port dbname=$_->[1] user=reader password=secret');" }
		[ 'h1', 'postgres' ], [ 'h2', 'db2' ], [ 'w1', 'db3' ]),
	q{CREATE ROLE erin; GRANT USAGE ON FOREIGN SERVER w1 TO erin;
	  CREATE USER MAPPING FOR erin SERVER w1 OPTIONS (user 'reader', password 'secret');}));
open_session('w', 'SET ROLE erin;', "SET statement_timeout = '6s';");
my $two = "ARRAY['h1', 'h2']";
my $waiter_call = "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['w1']);";

sub wait_for_sleep
{
	my ($name) = @_;
	$coordinator->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $sessions{$name}{pid} AND wait_event = 'PgSleep'")
	  or die "session $name never slept";
	return;
}
sub waiter_answered_quickly
{
	my ($label) = @_;
	like(slots(), qr/^[^,]+ 2 0$/, "$label: session a holds both slots of the cluster, idle");
	send_to('w', $waiter_call);
	my $took = wait_answer('w', 30);
	is(answer_of('w'), '1', "$label: a waiting session of another role is answered") or diag(error_of('w'));
	cmp_ok($took, '<', 1, sprintf('... within a second (%.2f s)', $took));
	push @figures, sprintf('waiter behind %s: %.2f s', $label, $took);
	return;
}
sub cancel_a
{
	$coordinator->safe_psql('postgres', "SELECT pg_cancel_backend($sessions{a}{pid})");
	wait_answer('a', 30);
	return;
}
sub counts_agree
{
	my ($label) = @_;
	my $kept = run_in('a', 'SELECT count(*) FROM multidb.open_connections();') + run_in('w', 'SELECT count(*) FROM multidb.open_connections();');
	my $counted = $coordinator->safe_psql('postgres', 'SELECT coalesce(sum(open), 0) FROM multidb.connection_slots()');
	is($counted, $kept, "$label: the shared count is the connections kept ($kept), none given back twice or lost");
	my $start = time;
	usleep(20_000) while ours_on($remote) != $kept && time - $start < 5;
	is(ours_on($remote), $kept, '... and so is the remote');
	run_in($_, 'SELECT multidb.disconnect();') for 'a', 'w';
	return;
}

# 3a. The same statement goes on after the fan-out.
send_to('a', "SELECT (SELECT count(*) FROM multidb.fanout('SELECT 1', $two)), pg_sleep(12);");
wait_for_sleep('a');
waiter_answered_quickly('a long statement after its fan-out');
ok(!answered('a'), '... while session a still sleeps');
cancel_a();
counts_agree('after the long statement');

# 3b. Idle inside a transaction.
run_in('a', "BEGIN; SELECT count(*) FROM multidb.fanout('SELECT 1', $two);");
waiter_answered_quickly('idle in a transaction');
is(run_in('a', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['h1']); COMMIT;"), '1',
	'... which then goes on, connecting anew');
counts_agree('after the transaction');

# 3c. A long statement of a later transaction that calls no multidb function.
send_to('a', "SELECT count(*) FROM multidb.fanout('SELECT 1', $two);\nSELECT pg_sleep(12);");
wait_for_sleep('a');
waiter_answered_quickly('a long statement of a later transaction');
cancel_a();
counts_agree('after the later statement');

# 3d. Past multidb.idle_connection_timeout while a statement runs.
send_to('a', "SET multidb.idle_connection_timeout = '1s'; SELECT (SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['h1'])), pg_sleep(12);");
wait_for_sleep('a');
my $gone = seconds_until_none_on($remote, 8);
ok(defined $gone, 'a connection idle past multidb.idle_connection_timeout is closed while the statement runs'
	  . (defined $gone ? sprintf(' (%.1f s after the sleep began)', $gone) : ' (still open after 8 s)'));
ok(!answered('a'), '... which still runs');
push @figures, sprintf('idle past the timeout inside a statement: closed %.1f s after the sleep began', $gone // -1);
cancel_a();
run_in('a', 'RESET multidb.idle_connection_timeout;');
counts_agree('after the idle timeout');
close_session($_) for 'a', 'b', 'w';

# ---- 4. Revoked inside a transaction ----------------------------------------------------------------------
$coordinator->safe_psql('postgres', q{CREATE ROLE carol; GRANT USAGE ON FOREIGN SERVER w1 TO carol;
	CREATE USER MAPPING FOR carol SERVER w1 OPTIONS (user 'reader', password 'secret')});
ok(defined seconds_until_none_on($remote, 10), 'no session of ours on the remote before');
open_session('c', 'SET ROLE carol;');
my $carol_call = "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['w1']);";
for my $change ([ 'REVOKE USAGE ON FOREIGN SERVER w1 FROM carol', qr/42501: permission denied for connection "w1"/,
		'GRANT USAGE ON FOREIGN SERVER w1 TO carol' ],
	[ 'DROP USER MAPPING FOR carol SERVER w1', qr/42704: connection "w1" has no user mapping for role "carol"/, undef ])
{
	my ($sql, $refusal, $undo) = @$change;
	is(run_in('c', "BEGIN; $carol_call"), '1', "inside a transaction carol's call keeps its connection");
	is(ours_on($remote), '1', '... one session on the remote');
	$coordinator->safe_psql('postgres', $sql);
	is(run_in('c', $carol_call), '', "$sql committed elsewhere: the very next call in carol's transaction is refused");
	like(error_of('c'), $refusal, '... with its SQLSTATE');
	my $closed = seconds_until_none_on($remote, 5);
	ok(defined $closed, '... and the kept connection is closed, still inside the transaction');
	run_in('c', 'ROLLBACK;');
	$coordinator->safe_psql('postgres', $undo) if $undo;
}
close_session('c');
ok(defined wait_until_clean($coordinator, [ $remote, $limits ], 10), 'nothing of ours left anywhere');
diag($_) for @figures;
done_testing();
