# A warm call in one round trip (libpq's pipeline mode): BEGIN, the settings, the gated checks, DECLARE and the first
# FETCH go out together, the checks prepared once per connection (and, while the catalog state is the one they passed
# under, one small unnamed statement comparing it in their stead, the settings pinned for the session by the reset);
# a check's gate raises on the remote when it would refuse, so a refused statement is never DECLAREd and the refusal
# reads exactly as on the slower path; errors at DECLARE and at FETCH, a cancel and a frozen remote close the
# connection; the ROLLBACK is not awaited; a statement prepared by hidden code is found before the prepared checks run
# again, and the connection replaced; through pgbouncer (transaction and session mode) the checks are never prepared.
use strict;
use warnings;

use IPC::Run;
use MultidbCluster;
use MultidbPooler;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

# (No autovacuum on r1: an ANALYZE's transaction would end between two calls of section 3b and blur what it shows.)
my $r1 = start_remote('r1', conf => "shared_preload_libraries = 'pg_stat_statements'\n"
	  . "pg_stat_statements.track_utility = on\nlog_min_duration_statement = 0\nlog_line_prefix = '%m [%p] db=%d '\n"
	  . "max_prepared_transactions = 2\nautovacuum = off\n");
my $r2 = start_remote('r2', conf => "wal_level = replica\nmax_wal_senders = 2\n");  # (a standby of it in section 3b)
my $tables = q{CREATE TABLE one (x int); INSERT INTO one VALUES (1); GRANT SELECT ON one TO reader;};
$r1->safe_psql('postgres', qq{CREATE EXTENSION pg_stat_statements; $tables
	CREATE ROLE boss LOGIN SUPERUSER PASSWORD 'secret';
	CREATE FUNCTION later() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';
	CREATE FUNCTION evil() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
	CREATE FUNCTION leave_prepared() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN EXECUTE 'PREPARE leftover AS SELECT 1'; RETURN 1; END \$\$;
	CREATE VIEW v_prepared AS SELECT leave_prepared() AS x;
	GRANT SELECT ON v_prepared TO reader;
	CREATE DATABASE implicit; CREATE DATABASE pooled;});
$r1->safe_psql('implicit', qq{CREATE EXTENSION pg_stat_statements; $tables CREATE FUNCTION sneaky(int) RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT true';
	CREATE DOMAIN checked AS int CHECK (sneaky(VALUE));});
$r1->safe_psql('pooled', "$tables CREATE FUNCTION evil() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';");
$r2->safe_psql('postgres', $tables);
my $coordinator = start_coordinator();
add_connection($coordinator, 'r1', $r1);
add_connection($coordinator, 'r2', $r2);
add_connection($coordinator, 'as_boss', $r1, user => 'boss', validate => 0);
add_connection($coordinator, 'reach', $r1, dbname => 'implicit', validate => 0);

# One coordinator session (kept connections live as long as it does), each statement its own -c: an error does not
# stop the ones after it. Errors verbose: SQLSTATE, DETAIL and HINT.
sub session
{
	my (@statements) = @_;
	my ($stdout, $stderr) = ('', '');
	my @command = ('psql', '-XAtq', '-v', 'VERBOSITY=verbose', '-d', $coordinator->connstr('postgres'));
	push @command, '-c', $_ for ('SET multidb.keep_connections = on', @statements);
	IPC::Run::run(\@command, '>', \$stdout, '2>', \$stderr);
	return ($stdout =~ s/\n+\z//r, $stderr);
}
my $psql = $r1->config_data('--bindir') . '/psql';
# A statement run on r1 from inside the coordinator session, between two of its calls.
sub on_r1
{
	my ($sql) = @_;
	my $host = $r1->host;
	my $port = $r1->port;
	return "COPY (SELECT 1) TO PROGRAM '$psql -X -q -h $host -p $port -d postgres -c \"$sql\" >/dev/null'";
}
my $pid_of_r1 = q{SELECT row_data->>'pid' FROM multidb.fanout('SELECT pg_backend_pid() AS pid', ARRAY['r1'])};
sub r1_log { my ($offset) = @_; return slurp_file($r1->logfile, $offset); }
sub count_of { my ($text, $pattern) = @_; my @found = $text =~ /$pattern/g; return scalar @found; }

# 1. Warm calls: one pipeline each, the checks prepared once (at the connection's second call: its first shows that
# no pooler is in between) and executed by name; from the third call on, while r1's catalog state is the one they
# passed under, the one gated statement that compares it stands for them (unnamed: a prepared one could be replaced by
# hidden code unseen); nothing takes the slower path.
my $call = "SELECT count(*) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY['r1', 'r2'])";
my $offset = -s $r1->logfile;
my ($out, $err) = session(($call) x 6);
is($out, join("\n", ('2') x 6), 'six calls answer') or diag($err);
my $log = r1_log($offset);
is(count_of($log, qr/parse multidb_volatile_reach:/), 1, 'the volatile check is prepared once on the kept connection');
is(count_of($log, qr/execute multidb_volatile_reach:/), 1, '... and executed by name at the next call');
my $compared = qr/execute <unnamed>: SELECT 1 OPERATOR\(pg_catalog\.\/\) CASE WHEN pg_catalog\.format\(/;
is(count_of($log, $compared), 4, '... then the catalog state compared at each later call');
is(count_of($log, qr/execute <unnamed>: SELECT c\.total FROM \(SELECT pg_catalog\.count\(\*\) FILTER \(WHERE p\.from_sql\)/), 1,
	'... and only the call that ran them by name looked at the prepared statements first');
is(count_of($log, qr/execute <unnamed>: SELECT v\.\* FROM \(SELECT h\.kind/), 1, 'the first call sent it unnamed, gated');
is(count_of($log, qr/execute <unnamed>: DECLARE multidb_rows NO SCROLL CURSOR FOR SELECT count\(\*\) FROM one/), 6,
	'each call DECLAREd the statement in the extended protocol');
is(count_of($log, qr/statement: SET DateStyle/), 0, 'no call took the slower path (the set-up as one simple query)');
# In one pipeline: BEGIN, the settings, the checks, RESET, DECLARE and FETCH, each answered in order, with no
# round trip between: the server logs them in the order sent, and the call's ROLLBACK only after the FETCH.
my @order;
for my $line (split /\n/, $log)
{
	next unless $line =~ /(?:execute (\S+?): |statement: )(.*)/;
	my ($name, $text) = ($1 // '', $2);
	if ($name =~ /^multidb_/) { push @order, $name; }
	elsif ($text =~ /^(BEGIN|RESET|DECLARE|FETCH|ROLLBACK)/) { push @order, $1; }
	elsif ($text =~ /^SELECT 1 OPERATOR\(pg_catalog\.\/\)/) { push @order, 'compare'; }
	elsif ($text =~ /^SELECT c\.total FROM/) { push @order, 'intact'; }
	elsif ($text =~ /^SELECT pg_catalog\.pg_advisory_unlock_all\(\)$/) { push @order, 'release'; }
}
# (The last call's ROLLBACK may be logged after psql returned: the call does not wait for it.)
is(count_of(join(' ', @order), qr/BEGIN intact multidb_session_facts multidb_volatile_reach RESET RESET DECLARE FETCH ROLLBACK/),
	1, 'the checks\' call: BEGIN, its prepared statements looked at, the two checks (the first also applying the settings), RESET plan_cache_mode and search_path, DECLARE, FETCH, then the ROLLBACK') or diag(join(' ', @order));
ok(count_of(join(' ', @order), qr/BEGIN compare DECLARE FETCH ROLLBACK/) >= 3,
	'each later call: BEGIN, the state compared, DECLARE, FETCH, then the ROLLBACK') or diag(join(' ', @order));
# The reset: the ROLLBACK, the statement settings SET for the session once (once the connection showed it is direct
# and prepared its checks), then one statement
# releasing advisory locks. Nothing else was SET outside the transaction, so no RESET ALL.
is(count_of($log, qr/statement: ROLLBACK; SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; SET TimeZone = '[^']+'; SET cursor_tuple_fraction = 1; RESET statement_timeout; SELECT pg_catalog\.pg_advisory_unlock_all\(\)/), 1,
	'the reset of the call that prepared the checks pins the statement settings for the session') or diag($log);
is(count_of($log, qr/statement: ROLLBACK; SELECT pg_catalog\.pg_advisory_unlock_all\(\)\n/), 1,
	'the first call ends with the ROLLBACK and one statement, sent after its rows') or diag($log);
# A call whose statement ended in one batch at the connection's last call ends in its pipeline: the same ROLLBACK and
# release follow its FETCH, and nothing goes out after its rows (section 1c).
is(count_of(join(' ', @order), qr/BEGIN compare DECLARE FETCH ROLLBACK release/), 4,
	'each call that compared the catalog state ended in its pipeline: ROLLBACK and the release after its FETCH')
  or diag(join(' ', @order));
is(count_of($log, qr/RESET ALL/), 0, '... and no RESET ALL');
is(count_of($log, qr/execute [^:]+: SELECT f\.\*, pg_catalog\.set_config\('DateStyle'/), 2,
	'... and only the two calls that ran the checks set the settings in their transaction');

# 1b. The statement settings a warm call does not send are the session's, pinned by the last reset for what that call
# wanted: a call that wants another TimeZone or multidb.statement_timeout runs the checks, which set its own (the
# remote's statement_timeout lowered from its own default, never from the pinned one), and its reset pins them anew.
my $settings = q{SELECT (row_data->>'tz') || ' ' || (row_data->>'st') FROM multidb.fanout($s$SELECT current_setting('TimeZone') AS tz, current_setting('statement_timeout') AS st$s$, ARRAY['r1'])};
$offset = -s $r1->logfile;
($out, $err) = session("SET TimeZone = 'UTC'", "SET multidb.statement_timeout = '20s'", ($settings) x 3,
	"SET TimeZone = 'Asia/Tokyo'", ($settings) x 2, "SET multidb.statement_timeout = '30s'", ($settings) x 2,
	"SET multidb.statement_timeout = '10s'", $settings);
is($out, join("\n", ('UTC 20s') x 3, ('Asia/Tokyo 20s') x 2, ('Asia/Tokyo 30s') x 2, 'Asia/Tokyo 10s'),
	'each call runs with its own TimeZone and statement_timeout, raised or lowered') or diag($err);
is(count_of(r1_log($offset), $compared), 3, '... the calls after a change comparing the catalog state again');

# 1c. The end in the pipeline is a guess, from the statement's last run on the connection. A session advisory lock
# that hidden code takes (a STABLE function, which the checks let through, calling a volatile one) is released by it
# as by the reset; a statement that has more rows than one batch now runs again on the same connection, its cursor
# kept open, and every row comes once (the rows depend on the time: no write on r1 changes its catalog state).
$r1->safe_psql('postgres', q{CREATE FUNCTION take_lock() RETURNS int LANGUAGE sql STABLE AS 'SELECT pg_advisory_lock(77); SELECT 1';
	CREATE VIEW v_lock AS SELECT take_lock() AS x; GRANT SELECT ON v_lock TO reader;});
my $pid_and_locks = q{SELECT (row_data->>'pid') || ' ' || (row_data->>'locks') FROM multidb.fanout($s$SELECT pg_backend_pid() AS pid, }
  . q{(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks$s$, ARRAY['r1'])};
my $locking = q{SELECT count(*) FROM multidb.fanout('SELECT x FROM v_lock', ARRAY['r1'])};
$offset = -s $r1->logfile;
($out, $err) = session($pid_and_locks, ($locking) x 3, $pid_and_locks);
my @answers = split /\n/, $out;
is(scalar(@answers), 5, 'a view taking a session advisory lock, called three times: every call answers') or diag($err);
like($answers[4], qr/^\d+ 0$/, '... and the next call finds no advisory lock held by the session') or diag($out);
is((split / /, $answers[4])[0], (split / /, $answers[0])[0], '... which is the same kept connection');
is(count_of(r1_log($offset), qr/execute <unnamed>: SELECT pg_catalog\.pg_advisory_unlock_all\(\)/), 2,
	'... the calls after the one that prepared the checks released it in their pipeline');

my $until = time + 5;
my $growing = 'SELECT count(*) || \' \' || sum((row_data->>\'g\')::int) FROM multidb.fanout($s$SELECT g FROM generate_series(1, '
  . "CASE WHEN now() > to_timestamp($until) THEN 10 ELSE 2 END) g\$s\$, ARRAY['r1'])";
$offset = -s $r1->logfile;
($out, $err) = session('SET multidb.fetch_size = 3', 'SET client_min_messages = debug1', ($growing) x 2,
	"SELECT 'slept' FROM pg_sleep(greatest(0, $until + 1 - extract(epoch FROM now())))", ($growing) x 2,
	'SELECT remote_pid FROM multidb.open_connections()');
@answers = split /\n/, $out;
is(join(' | ', @answers[0 .. 4]), '2 3 | 2 3 | slept | 10 55 | 10 55',
	'a statement whose rows outgrew one batch after ending in one: every row once') or diag($err);
is(count_of($err, qr/the statement has more rows than one batch now; running it again/), 1,
	'... the call that guessed its end ran it again') or diag($err);
is(count_of(r1_log($offset), qr/execute <unnamed>: DECLARE multidb_rows NO SCROLL CURSOR FOR SELECT g FROM generate_series/), 5,
	'... DECLAREd twice by that call, once by each other') or diag(r1_log($offset));
is(scalar(@answers), 6, '... and its connection is kept') or diag($out);

# 2. Refusals read as on the slower path (multidb.describe keeps it: the set-up and the inline checks in one message,
# judged here), and the refused statement is never DECLAREd.
sub without_location { my ($text) = @_; return join("\n", grep { !/^LOCATION:|^CONTEXT:|^\s/ } split /\n/, $text); }
$r1->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');
for my $case (
	[ 'r1', 'SELECT evil() AS v FROM one', 'a volatile function' ],
	[ 'as_boss', 'SELECT x FROM one', 'a privileged role' ],
	[ 'reach', 'SELECT x FROM one', 'an implicit volatile reach' ])
{
	my ($connection, $sql, $what) = @$case;
	my $refused = "SELECT count(*) FROM multidb.fanout(\$s\$$sql\$s\$, ARRAY['$connection'])";
	my (undef, $warm) = session("SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['$connection'])", $refused);
	my (undef, $slow) = session("SELECT count(*) FROM multidb.describe(\$s\$$sql\$s\$, ARRAY['$connection'])");
	like($warm, qr/ERROR:  42501: connection "$connection": /, "$what: refused") or diag($warm);
	is(without_location($warm =~ s/\A.*(?=ERROR:  42501)//sr), without_location($slow =~ s/\A.*(?=ERROR:  42501)//sr),
		"... with the SQLSTATE, message, DETAIL and HINT of the slower path");
}
is($r1->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_statements WHERE query ~ '^DECLARE multidb_rows' AND query ~ 'evil'}),
	'0', 'pg_stat_statements: the refused statement was never DECLAREd');
is($r1->safe_psql('implicit', q{SELECT count(*) FROM pg_stat_statements WHERE query ~ '^DECLARE multidb_rows'
	AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())}), '0',
	'... nor any statement where an implicit volatile reach refuses every one');

# 2b. A gate stricter than the judgement (an allowlist pattern matches case-insensitively, the gate's LIKE does not):
# the gate refuses, the slower path's judgement allows, and the statement runs the old way, on the same connection.
$r1->safe_psql('postgres', q{CREATE FUNCTION "MixedCase"() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 7'});
$offset = -s $r1->logfile;
($out, $err) = session($pid_of_r1, "SET multidb.extra_allowed_volatile_functions = 'mixedcase'",
	q{SELECT row_data->>'v' FROM multidb.fanout('SELECT "MixedCase"() AS v', ARRAY['r1'])}, $pid_of_r1);
my ($pid_before, $seven, $pid_after) = split /\n/, $out;
is($seven, '7', 'a gate stricter than the judgement: the statement runs all the same') or diag($err);
is($pid_after, $pid_before, '... on the same connection');
$log = r1_log($offset);
is(count_of($log, qr/multidb_check_refused: function public\."MixedCase"\(\)/), 1, '... after the gate refused it');
is(count_of($log, qr/statement: ROLLBACK; SET DateStyle = ISO;[^\n]*BEGIN TRANSACTION READ ONLY/), 1, '... and the slower path judged it');
is(count_of($log, qr/statement: ROLLBACK; RESET ALL; SET DateStyle = ISO;[^\n]*SELECT pg_catalog\.pg_advisory_unlock_all\(\)/), 1,
	'... whose session SETs the reset after the call undoes with RESET ALL, then pins the settings again');

# Workers (keep_connections off) send the pipeline too, the checks unnamed, and keep nothing.
$offset = -s $r1->logfile;
($out, $err) = session('SET multidb.keep_connections = off', $call, $call);
is($out, "2\n2", 'keep_connections off: calls in workers answer') or diag($err);
$log = r1_log($offset);
is(count_of($log, qr/execute <unnamed>: DECLARE multidb_rows NO SCROLL CURSOR FOR SELECT count\(\*\) FROM one/), 2,
	'... through the pipeline');
is(count_of($log, qr/parse multidb_/), 0, '... never preparing the checks');

# 3. What changes on the remote between two warm calls is seen at the second.
($out, $err) = session("SELECT count(*) FROM multidb.fanout('SELECT later() AS v', ARRAY['r1'])",
	on_r1('ALTER FUNCTION later() VOLATILE'), "SELECT count(*) FROM multidb.fanout('SELECT later() AS v', ARRAY['r1'])");
like($err, qr/could call function public\.later\(\), VOLATILE/, 'a function made volatile between two warm calls: the second is refused')
  or diag($err);
($out, $err) = session($call, on_r1('GRANT pg_signal_backend TO reader'), $call, on_r1('REVOKE pg_signal_backend FROM reader'));
like($err, qr/the remote role "reader" is member of pg_signal_backend/, 'a role granted between two warm calls: the second is refused')
  or diag($err);

# 3b. The catalog state stands for the checks only while it is the same. A change made from another database of the
# cluster (a shared catalog) is seen; so is one whose transaction was already running at the earlier call and ended
# after it, with a later one ended before (so that the snapshot's xmax stays: only its running xids differ).
sub on_r1_in
{
	my ($dbname, $sql) = @_;
	return on_r1($sql) =~ s/-d postgres/-d $dbname/r;
}
$offset = -s $r1->logfile;
($out, $err) = session($call, $call, on_r1_in('implicit', 'ALTER ROLE reader SUPERUSER'), $call,
	on_r1_in('implicit', 'ALTER ROLE reader NOSUPERUSER'), $call);
like($err, qr/the remote role "reader" is superuser/, 'made superuser from another database between two calls: the next is refused')
  or diag($err);
is($out, "2\n2\n2", '... the calls before and after answer');
like(r1_log($offset), qr/ERROR:  division by zero\n[^\n]*STATEMENT:  SELECT 1 OPERATOR\(pg_catalog\.\/\) CASE WHEN pg_catalog\.format/,
	'... after the compared state refused');
$r1->safe_psql('postgres', "BEGIN; GRANT pg_signal_backend TO reader; PREPARE TRANSACTION 'grant_later'");
$r1->safe_psql('postgres', 'CREATE TABLE ended_after_it ()');
my $xmax = q{SELECT pg_snapshot_xmax(pg_current_snapshot())};
my $xmax_before = $r1->safe_psql('postgres', $xmax);
$offset = -s $r1->logfile;
($out, $err) = session(($call) x 4, on_r1("COMMIT PREPARED ''grant_later''"), $call);
is($out, "2\n2\n2\n2", 'a grant in a transaction still running: the calls before its end answer') or diag($err);
$log = r1_log($offset);
is(count_of($log, qr/duration: [0-9.]+ ms  bind <unnamed>: SELECT 1 OPERATOR\(pg_catalog\.\/\)/), 3,
	'... the last two of them by the compared state, and the call after its end too') or diag($log);
is(count_of($log, qr/ERROR:  division by zero/), 1, '... which refused there');
like($err, qr/the remote role "reader" is member of pg_signal_backend/, '... and the call after its end is refused');
is($r1->safe_psql('postgres', $xmax), $xmax_before, '... though the snapshot\'s xmax did not move (only its running xids did)');
$r1->safe_psql('postgres', 'REVOKE pg_signal_backend FROM reader; DROP TABLE ended_after_it');

# A standby's snapshot leaves out the running transactions: there the checks run at every call.
open my $hba, '>>', $r2->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local replication all trust\n";
close $hba;
$r2->restart;  # (a reload would be read at some point after it returns)
$r2->backup('for_standby');
my $standby = PostgreSQL::Test::Cluster->new('r2_standby');
$standby->init_from_backup($r2, 'for_standby', has_streaming => 1);
$standby->append_conf('postgresql.conf', "log_min_duration_statement = 0\n");
$standby->start;
add_connection($coordinator, 'standby', $standby, validate => 0);
$offset = -s $standby->logfile;
($out, $err) = session(("SELECT count(*) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY['standby'])") x 4);
is($out, join("\n", ('1') x 4), 'calls on a standby answer') or diag($err);
my $standby_log = slurp_file($standby->logfile, $offset);
is(count_of($standby_log, qr/execute multidb_volatile_reach:/), 3, '... the checks run by name at every call after the first')
  or diag($standby_log);
is(count_of($standby_log, qr/bind <unnamed>: SELECT 1 OPERATOR/), 0, '... never the compared state');
$standby->stop;

# 4. Errors at DECLARE and at FETCH name the connection; the next call works, on a new connection.
for my $case ([ 'SELECT nosuch FROM one', qr/connection "r1": column "nosuch" does not exist/, 'at DECLARE' ],
	[ 'SELECT 1 / (x - 1) FROM one', qr/connection "r1": division by zero/, 'at FETCH' ])
{
	my ($sql, $error, $where) = @$case;
	($out, $err) = session($pid_of_r1, "SELECT count(*) FROM multidb.fanout('$sql', ARRAY['r1'])", $pid_of_r1);
	like($err, $error, "an error $where names the connection");
	my ($before, $after) = split /\n/, $out;
	ok(defined $after && $after ne $before, '... and the next call works, on a new connection') or diag($err);
}

# 5. A cancel while the pipeline runs (the statement sleeping in its first FETCH), and a frozen remote: within the
# timeout, and no connection is left.
my $start = time;
($out, $err) = session($pid_of_r1, "SET statement_timeout = '300ms'",
	"SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(5)', ARRAY['r1'])", 'RESET statement_timeout',
	'SELECT count(*) FROM multidb.open_connections()');
like($err, qr/canceling statement due to statement timeout/, 'a cancel during the pipeline');
ok(time - $start < 4, '... ends within the timeout');
is((split /\n/, $out)[-1], '0', '... and the cancelled connection is not kept');
ok($r1->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'... nor left running on the remote');

# ... and in a later FETCH (one row per FETCH: the second row sleeps).
$start = time;
($out, $err) = session($pid_of_r1, 'SET multidb.fetch_size = 1', "SET statement_timeout = '300ms'",
	"SELECT count(*) FROM multidb.fanout('SELECT g, CASE WHEN g = 2 THEN pg_sleep(5) END AS s FROM generate_series(1, 3) g', ARRAY['r1'])",
	'RESET statement_timeout', 'SELECT count(*) FROM multidb.open_connections()');
like($err, qr/canceling statement due to statement timeout/, 'a cancel during a later FETCH');
ok(time - $start < 4, '... ends within the timeout');
is((split /\n/, $out)[-1], '0', '... and the cancelled connection is not kept');
ok($r1->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'... nor left running on the remote');

my $postmaster = (split /\n/, slurp_file($r1->data_dir . '/postmaster.pid'))[0];
$start = time;
($out, $err) = session($pid_of_r1, 'SET multidb.statement_timeout = 1000',
	"COPY (SELECT 1) TO PROGRAM 'kill -STOP $postmaster \$(pgrep -P $postmaster)'",
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])", 'SELECT count(*) FROM multidb.open_connections()');
my $frozen_for = time - $start;
kill 'CONT', $postmaster, split(/\s+/, `pgrep -P $postmaster`);
like($err, qr/connection "r1": no answer from the server within 2000 ms/, 'a remote frozen before the pipeline was answered: given up')
  or diag($err);
ok($frozen_for < 6, "... within the deadline (${frozen_for}s)");
is((split /\n/, $out)[-1], '0', '... and the connection is not kept');

# 6. The ROLLBACK is not awaited: the call returns, the next call of the session reads its answer first. A view that
# left a prepared statement: the next call that runs the prepared checks looks first, finds it, and takes a new
# connection, where it works.
($out, $err) = session($pid_of_r1, "SELECT count(*) FROM multidb.fanout('SELECT * FROM v_prepared', ARRAY['r1'])",
	$pid_of_r1, "SELECT row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM pg_prepared_statements WHERE from_sql', ARRAY['r1'])");
my ($first, $view, $second, $left) = split /\n/, $out;
is($view, '1', 'a view that leaves a prepared statement answers');
isnt($second, $first, '... the next call found a statement it did not prepare and connected anew') or diag($err);
is($left, '0', '... where nothing of it is left');
($out, $err) = session($pid_of_r1, $pid_of_r1, $pid_of_r1);
my @pids = split /\n/, $out;
ok(@pids == 3 && $pids[0] eq $pids[1] && $pids[1] eq $pids[2], 'a clean call keeps its connection, its reset read by the next');

# 6b. Batches grow while their rows are small: the first two FETCHes ask for multidb.fetch_size rows (the second goes
# out before the first batch's format is chosen), each after for up to four times the last, within about 1 MB; wide
# rows stay at fetch_size. What r1 was asked is read from pg_stat_statements, reset before each look.
# The FETCHes r1 ran since the last reset, as [rows asked, times], fewest rows first.
sub fetches_since_reset
{
	my @fetches = map { [ split /\|/ ] } split /\n/, $r1->safe_psql('postgres',
		q{SELECT substring(query from 'FETCH (\d+) FROM multidb_rows')::int AS n, calls FROM pg_stat_statements }
		  . q{WHERE query ~ '^FETCH \d+ FROM multidb_rows' ORDER BY n});
	$r1->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');
	return @fetches;
}
sub fetches_text { return join(', ', map { "$_->[1] x FETCH $_->[0]" } @_); }
fetches_since_reset();
($out, $err) = session('SET multidb.fetch_size = 1000',
	q{SELECT count(*), sum(g) FROM multidb.fanout_rows('SELECT g FROM generate_series(1, 200000) g', ARRAY['r1']) AS s(source_db text, g int)},
	'SET multidb.fetch_size = 2',
	q{SELECT count(*), sum(length(w)) FROM multidb.fanout_rows('SELECT repeat(''w'', 700000) || g AS w FROM generate_series(1, 9) g', ARRAY['r1']) AS s(source_db text, w text)});
is($out, "200000|20000100000\n9|6300009", 'narrow rows and wide rows: every row came') or diag($err);
my @fetches = fetches_since_reset();
my %calls = map { $_->[0] => $_->[1] } @fetches;
is($calls{2}, 5, 'wide rows (700 kB each): every FETCH asked for fetch_size rows (2): four full batches and the last');
is($calls{1000}, 2, 'narrow rows: the first two FETCHes asked for fetch_size rows (1000)');
is($calls{4000}, 1, '... the third for four times as many');
my @grown = grep { $_->[0] > 4000 } @fetches;
ok(@grown >= 1, '... the later ones for more (' . fetches_text(@grown) . ')');
is((grep { $_->[0] > 65536 } @grown), 0, '... never more than 1 MB of rows (a row of libpq\'s result holds 16 bytes or more)');
my $narrow_calls = 0;
$narrow_calls += $_->[1] for grep { $_->[0] >= 1000 } @fetches;
ok($narrow_calls < 20, "... 200,000 rows in $narrow_calls FETCHes, not 200");

# A statement whose rows trickle (50 ms each) keeps its batches to what comes within a second at its pace: ten rows at
# first, then twenty, never forty.
($out, $err) = session('SET multidb.fetch_size = 10',
	q{SELECT count(*) FROM multidb.fanout_rows('SELECT g, pg_sleep(0.05) FROM generate_series(1, 70) g', ARRAY['r1']) AS s(source_db text, g int, s text)});
is($out, '70', 'a slow statement: every row came') or diag($err);
my @slow = fetches_since_reset();
is_deeply([ map { $_->[0] } grep { $_->[0] > 20 } @slow ], [], '... its FETCHes asked for 20 rows at most ('
	  . fetches_text(@slow) . ')');

# The batches of one call's connections share 16 MB: rows of 100 kB, one row a FETCH at first, grow to ten rows (1 MB)
# on one database, to four (16 MB / 40) on each of forty.
my $wide = q{SELECT count(*), sum(length(w)) FROM multidb.fanout_rows('SELECT repeat(''w'', 100000) AS w }
  . q{FROM generate_series(1, 30)', ARRAY[%s]) AS s(source_db text, w text)};
($out, $err) = session('SET multidb.fetch_size = 1', sprintf($wide, q{'r1'}));
is($out, '30|3000000', 'rows of 100 kB from one database') or diag($err);
is_deeply([ map { $_->[0] } fetches_since_reset() ], [ 1, 4, 10 ], '... FETCH 1 twice, then 4, then 10 rows (1 MB)');
add_connection($coordinator, "forty_$_", $r1, validate => 0) for 1 .. 40;
fetches_since_reset();
($out, $err) = session('SET multidb.fetch_size = 1', sprintf($wide, join(', ', map { "'forty_$_'" } 1 .. 40)));
is($out, '1200|120000000', '... and from forty connections at once') or diag($err);
is_deeply([ map { $_->[0] } fetches_since_reset() ], [ 1, 4 ], '... each grew to four rows (16 MB shared by forty), no more');

# 7. Through pgbouncer, transaction and session mode: calls answer, refusals are refused, and the checks are never
# prepared there (the server session is not the one libpq knows).
my $r1_port = $r1->port;
for my $mode (qw(transaction session))
{
	my ($port, $pooler) = start_pgbouncer(
		databases => { pooled => "host=127.0.0.1 port=$r1_port dbname=pooled user=reader password=secret" },
		pool_mode => $mode,
		settings => "default_pool_size = 3\nserver_round_robin = 1\n");
	$coordinator->safe_psql('postgres', "CREATE SERVER pooled_$mode FOREIGN DATA WRAPPER multidb "
		  . "OPTIONS (host '127.0.0.1', port '$port', dbname 'pooled'); "
		  . "CREATE USER MAPPING FOR CURRENT_USER SERVER pooled_$mode OPTIONS (user 'pooled')");
	my $through = "SELECT count(*) FROM multidb.fanout('SELECT x FROM one', ARRAY['pooled_$mode'])";
	for (1 .. 100) { my ($o) = session($through); last if $o eq '1'; usleep(50_000); }
	$offset = -s $r1->logfile;
	($out, $err) = session(($through) x 5, "SELECT count(*) FROM multidb.fanout('SELECT evil() AS e', ARRAY['pooled_$mode'])");
	is($out, join("\n", ('1') x 5), "pgbouncer in $mode mode: five calls in one session answer") or diag($err);
	like($err, qr/could call function public\.evil\(\), VOLATILE/, '... a volatile function is refused');
	$log = r1_log($offset);
	is(count_of($log, qr/db=pooled .*parse multidb_/), 0, '... and the checks were never prepared there');
	ok(count_of($log, qr/db=pooled .*execute <unnamed>: SELECT v\.\* FROM \(SELECT h\.kind/) >= 5,
		'... but sent unnamed, gated, at every call');
	is(count_of($log, qr/db=pooled .*statement: ROLLBACK; (?:RESET ALL; )?SET DateStyle[^\n]*pg_advisory_unlock_all/), 0,
		'... and no setting pinned in the pooler\'s server sessions, which its other clients would get');
	$pooler->kill_kill;
}

done_testing();
