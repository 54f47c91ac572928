# A kept connection goes back exactly as it came. A statement may run code multidb cannot see — a view over a
# volatile function, a row security policy — and that code may leave state in the remote session that outlives
# the call's ROLLBACK: a session advisory lock, a prepared statement, dblink connections (named and unnamed),
# postgres_fdw's cached connections; or try to (LISTEN, changed settings and temporary tables are transactional
# or refused inside READ ONLY). Each is reset at the end of the call, or — a prepared statement — found before the
# next call that runs the prepared checks, and the next call through the same connection finds a clean session, or a
# new one. The checks a kept connection keeps prepared are among what such code could replace: a look-alike, or
# checks gone, are found before they run, and the connection replaced. Through a pooler in transaction mode, where
# prepared statements do not stay, the checks go inline.
use strict;
use warnings;

use MultidbCluster;
use MultidbPooler;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $remote = start_remote('stateful');
my $port = $remote->port;
$remote->safe_psql('postgres', qq{
	CREATE EXTENSION dblink;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER self FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$port', dbname 'postgres', application_name 'fdw_leak');
	CREATE USER MAPPING FOR reader SERVER self OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR CURRENT_USER SERVER self OPTIONS (user 'reader', password 'secret');
	CREATE FOREIGN TABLE remote_items (id int) SERVER self OPTIONS (table_name 'items');
	GRANT SELECT ON remote_items TO reader;
	CREATE FUNCTION take_lock() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT pg_advisory_lock(77); SELECT 1';
	CREATE FUNCTION leave_prepared() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN EXECUTE 'PREPARE leftover AS SELECT 1'; RETURN 1; END \$\$;
	CREATE FUNCTION listen() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN EXECUTE 'LISTEN leftover'; RETURN 1; END \$\$;
	CREATE FUNCTION change_settings() RETURNS int LANGUAGE sql VOLATILE AS
	  \$\$ SELECT set_config('work_mem', '1MB', false); SELECT set_config('search_path', 'leftover', false); SELECT 1 \$\$;
	CREATE FUNCTION make_temp() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN EXECUTE 'CREATE TEMP TABLE leftover (x int)'; RETURN 1; END \$\$;
	CREATE FUNCTION open_dblinks() RETURNS int LANGUAGE sql VOLATILE AS
	  \$\$ SELECT dblink_connect('named', 'host=127.0.0.1 port=$port dbname=postgres user=reader password=secret application_name=dblink_leak');
	     SELECT dblink_connect('host=127.0.0.1 port=$port dbname=postgres user=reader password=secret application_name=dblink_leak');
	     SELECT 1 \$\$;
	CREATE VIEW v_lock AS SELECT take_lock() AS x;
	CREATE VIEW v_prepared AS SELECT leave_prepared() AS x;
	CREATE VIEW v_listen AS SELECT listen() AS x;
	CREATE VIEW v_settings AS SELECT change_settings() AS x;
	CREATE VIEW v_temp AS SELECT make_temp() AS x;
	CREATE VIEW v_dblink AS SELECT open_dblinks() AS x;
	CREATE VIEW v_fdw AS SELECT count(*) AS x FROM remote_items;
	CREATE FUNCTION replace_checks() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN
	  EXECUTE 'DEALLOCATE multidb_volatile_reach';
	  EXECUTE 'PREPARE multidb_volatile_reach(text[], int4[], text[], text[], text[], bool) AS SELECT ''function''::text, '
	    || '''''::text, ''public''::text, ''x''::text, ''public.x()''::text, false WHERE false';
	  RETURN 1; END \$\$;
	CREATE VIEW v_replace_checks AS SELECT replace_checks() AS x;
	CREATE FUNCTION drop_checks() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$ BEGIN EXECUTE 'DEALLOCATE ALL'; RETURN 1; END \$\$;
	CREATE VIEW v_drop_checks AS SELECT drop_checks() AS x;
	CREATE FUNCTION tainted() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
	GRANT SELECT ON v_lock, v_prepared, v_listen, v_settings, v_temp, v_dblink, v_fdw, v_replace_checks, v_drop_checks TO reader;
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'r1', $remote);

# One coordinator session: the attack through a view, then what the next call through the kept connection sees.
sub after
{
	my ($view, $probe) = @_;
	my $pid = q{(SELECT row_data->>'pid' FROM multidb.fanout('SELECT pg_backend_pid() AS pid', ARRAY['r1']))};
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ',
		"SELECT $pid",
		"DO \$\$ BEGIN PERFORM * FROM multidb.fanout('SELECT * FROM $view', ARRAY['r1']); EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'failed: %', SQLERRM; END \$\$",
		"SELECT $pid",
		"SELECT row_data->>'v' FROM multidb.fanout(\$p\$$probe\$p\$, ARRAY['r1'])"));
	my ($before, $after, $seen) = split /\n/, $stdout;
	return ($before, $after, $seen, $stderr);
}

sub leftover_sessions
{
	my ($application) = @_;
	return $remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$application'");
}

my ($before, $after, $seen, $stderr) = after('v_lock',
	'SELECT count(*) AS v FROM pg_locks WHERE locktype = \'advisory\' AND pid = pg_backend_pid()');
is($seen, '0', 'a session advisory lock taken by a view is not held by the kept session afterwards') or diag($stderr);
is($before, $after, '... which is still the same kept connection (the lock was released, not the session)');
is($remote->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), '0', '... and no session holds it');

($before, $after, $seen, $stderr) = after('v_prepared',
	q{SELECT count(*) AS v FROM pg_prepared_statements WHERE NOT starts_with(name, 'multidb')});
is($seen, '0', 'a prepared statement left by a view is not there for the next call') or diag($stderr);
isnt($before, $after, '... because that call found it, before running the prepared checks, and took a new connection');

($before, $after, $seen, $stderr) = after('v_listen', 'SELECT count(*) AS v FROM pg_listening_channels()');
is($seen, '0', 'LISTEN inside the call does not outlive it') or diag($stderr);

($before, $after, $seen, $stderr) = after('v_settings',
	q{SELECT current_setting('work_mem') || ' ' || current_setting('search_path') AS v});
is($seen, '4MB "$user", public', 'settings changed by a view are back to the session defaults') or diag($stderr);

($before, $after, $seen, $stderr) = after('v_temp', 'SELECT pg_my_temp_schema()::int AS v');
like($stderr, qr/read-only transaction/, 'a temporary table cannot be made inside the READ ONLY transaction');
is($seen, '0', '... and the next call has no temporary schema');

($before, $after, $seen, $stderr) = after('v_dblink', 'SELECT 1 AS v');
unlike($stderr, qr/failed:/, 'a view opening dblink connections answers') or diag($stderr);
ok($remote->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'dblink_leak'"),
	'dblink connections, named and unnamed, opened by a view are closed at the end of the call') or diag($stderr);
is($before, $after, '... and the kept connection stays');

($before, $after, $seen, $stderr) = after('v_fdw', 'SELECT 1 AS v');
unlike($stderr, qr/failed:/, 'a view over a postgres_fdw foreign table answers') or diag($stderr);
ok($remote->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'fdw_leak'"),
	"postgres_fdw's cached connection opened by a view is closed at the end of the call") or diag($stderr);
is($before, $after, '... and the kept connection stays');

# The same view, called again while the catalog state stands for the checks: the reset still closes what it opened
# (the schemas the checks found are kept with the state), as the same session sees at once.
my ($ret, $stdout);
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ',
	"SET multidb.extra_allowed_volatile_functions = 'postgres_fdw_get_connections'",
	("SELECT count(*) FROM multidb.fanout('SELECT * FROM v_fdw', ARRAY['r1'])") x 4,
	q{SELECT row_data->>'v' FROM multidb.fanout('SELECT count(*) AS v FROM postgres_fdw_get_connections()', ARRAY['r1'])},
	q{SELECT row_data->>'v' FROM multidb.fanout($p$SELECT generic_plans + custom_plans AS v FROM pg_prepared_statements WHERE name = 'multidb_session_facts'$p$, ARRAY['r1'])}));
# (The facts run by name at the second call, which prepares them, and at the two probes: the third and fourth calls
# compared the catalog state instead.)
is($stdout, "1\n1\n1\n1\n0\n3", 'a view over a foreign table, four calls: none leaves a postgres_fdw connection, the last two '
	. 'compared the catalog state') or diag($stderr);

# The checks a kept connection has prepared, replaced by a look-alike that finds nothing: the next call that would run
# them looks first, sees it, and takes a new connection, whose checks are the real ones.
($before, $after, $seen, $stderr) = after('v_replace_checks', q{SELECT count(*) AS v FROM pg_prepared_statements});
isnt($before, $after, 'prepared checks replaced by a hidden function: the connection is not kept');
is($seen, '2', '... and the next connection prepares its own (at its second call: its first showed no pooler)');
# The same for checks gone (DEALLOCATE ALL): not run, not missed.
($before, $after, $seen, $stderr) = after('v_drop_checks', q{SELECT count(*) AS v FROM pg_prepared_statements});
unlike($stderr, qr/failed:|does not exist/, 'prepared checks dropped by a hidden function: no call fails') or diag($stderr);
isnt($before, $after, '... the connection is not kept');
is($seen, '2', '... and the next connection prepares its own');
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ',
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])",
	"SELECT count(*) FROM multidb.fanout('SELECT * FROM v_replace_checks', ARRAY['r1'])",
	"SELECT count(*) FROM multidb.fanout('SELECT tainted()', ARRAY['r1'])"));
like($stderr, qr/could call function public\.tainted\(\), VOLATILE/, '... which still refuse a volatile function');

# A pooler in transaction mode hands each transaction another server session: the first call sees that the server
# session is not the one libpq knows (another pid), and the connection never prepares its checks: they go unnamed.
my ($pooler_port, $pooler) = start_pgbouncer(
	databases => { pooled => "host=127.0.0.1 port=$port dbname=postgres user=reader password=secret" },
	pool_mode => 'transaction',
	settings => "default_pool_size = 4\nmin_pool_size = 3\nserver_round_robin = 1\n");
$coordinator->safe_psql('postgres', "CREATE SERVER pooled FOREIGN DATA WRAPPER multidb "
	  . "OPTIONS (host '127.0.0.1', port '$pooler_port', dbname 'pooled'); "
	  . "CREATE USER MAPPING FOR CURRENT_USER SERVER pooled OPTIONS (user 'pooled')");
my $through = "SELECT count(*) FROM multidb.fanout('SELECT id FROM items', ARRAY['pooled'])";
my $ready = '';
for (1 .. 100)
{
	($ret, $ready) = $coordinator->psql('postgres', $through);
	last if $ready eq '100';
	usleep(50_000);
}
# The pooler hands its server sessions out in turn (server_round_robin): what one transaction prepared is not there
# for the next.
my $log_offset = -s $remote->logfile;
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ', ($through) x 8));
is($stdout, join("\n", ('100') x 8), 'through a pooler in transaction mode, eight calls in one session answer')
  or diag($stderr);
# (not printed on failure: the log is long)
ok(slurp_file($remote->logfile, $log_offset) !~ /prepared statement "multidb_/,
	'... where no prepared check was missing or left behind');
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "$through; SELECT count(*) FROM multidb.fanout('SELECT tainted()', ARRAY['pooled'])");
like($stderr, qr/could call function public\.tainted\(\), VOLATILE/, '... and the checks still refuse a volatile function');
$pooler->kill_kill;

# A harmless call keeps its connection: the reset does not cost the warm path.
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ',
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])",
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])",
	"SELECT calls FROM multidb.open_connections() WHERE connection = 'r1'"));
is((split /\n/, $stdout)[-1], '2', 'a clean connection serves the next call') or diag($stderr);

done_testing();
