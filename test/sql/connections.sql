-- Connections are foreign servers: what the wrapper accepts, and who may use them.
\getenv pgport PGPORT
\getenv password MULTIDB_TEST_PASSWORD

-- libpq options belong on servers, credentials on user mappings; anything else is refused.
CREATE SERVER bad1 FOREIGN DATA WRAPPER multidb OPTIONS (hostname 'x');
CREATE SERVER bad2 FOREIGN DATA WRAPPER multidb OPTIONS (password 'secret');
CREATE SERVER bad3 FOREIGN DATA WRAPPER multidb OPTIONS (client_encoding 'LATIN1');
CREATE SERVER ok1 FOREIGN DATA WRAPPER multidb OPTIONS (host 'h', port '5432', dbname 'd', sslmode 'prefer',
                                                        connect_timeout '3', application_name 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (dbname 'd');
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (user 'u', password 'p', sslcert 'c', sslkey 'k');
SET client_min_messages = warning;
DROP SERVER ok1 CASCADE;
RESET client_min_messages;

-- add_connection parses conninfo with libpq.
SELECT multidb.add_connection('broken', 'host=127.0.0.1 port');
SELECT multidb.add_connection('broken', 'client_encoding=LATIN1');
SELECT multidb.add_connection('', 'host=x');
SELECT multidb.add_connection(NULL, 'host=x');
-- A name that is taken: 42710 naming it, and how to free it.
SELECT * FROM error_of($$SELECT multidb.add_connection('alpha', 'host=x')$$);

-- add_connection tries the connection first, as a fan-out would, and keeps nothing when that fails: a wrong
-- password, a closed port, a bogus sslmode, a privileged remote role.
SELECT * FROM error_of(format($$SELECT multidb.add_connection('wrongpw', 'host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_remote password=wrong')$$, :'pgport'));
SELECT * FROM error_of($$SELECT multidb.add_connection('closedport', 'host=127.0.0.1 port=1 dbname=multidb_regress_a user=multidb_regress_remote password=x')$$);
SELECT * FROM error_of(format($$SELECT multidb.add_connection('badssl', 'host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_remote password=%s sslmode=bogus')$$, :'pgport', :'password'));
CREATE ROLE multidb_regress_super SUPERUSER LOGIN PASSWORD :'password';
SELECT * FROM error_of(format($$SELECT multidb.add_connection('super', 'host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_super password=%s')$$, :'pgport', :'password'));
DROP ROLE multidb_regress_super;
SELECT count(*) AS servers_left FROM pg_foreign_server WHERE srvname IN ('wrongpw', 'closedport', 'badssl', 'super');
SELECT count(*) AS mappings_left FROM pg_user_mappings WHERE srvname IN ('wrongpw', 'closedport', 'badssl', 'super');
-- validate => false adds it untried (it fails at first use); drop_connection removes it and its user mappings
SELECT multidb.add_connection('later', 'host=127.0.0.1 port=1 dbname=x user=x password=x', validate => false);
SELECT name, host, port, dbname FROM multidb.connections WHERE name = 'later';
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['later'])$$) ~ '^08' AS fails_at_use;
SELECT multidb.drop_connection('later');
SELECT count(*) AS servers_left FROM pg_foreign_server WHERE srvname = 'later';
SELECT count(*) AS mappings_left FROM pg_user_mappings WHERE srvname = 'later';
SELECT * FROM error_of($$SELECT multidb.drop_connection('later')$$);
-- calls written for 0.6 work as before
SELECT multidb.add_connection('old_style', format('host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_remote password=%s', :'pgport', :'password'), 'described');
SELECT name, description FROM multidb.connections WHERE name = 'old_style';
SELECT multidb.drop_connection('old_style');

-- Servers of postgres_fdw work unchanged; their own options are not handed to libpq.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', dbname 'multidb_regress_a', fetch_size '500', use_remote_estimate 'true');
SELECT set_config('multidb_test.password', :'password', false) IS NOT NULL AS password_known;
DO $$ BEGIN
  EXECUTE format('ALTER SERVER legacy OPTIONS (ADD port %L)', current_setting('port'));
  EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS (user %L, password %L)',
                 'multidb_regress_remote', current_setting('multidb_test.password'));
END $$;
SELECT * FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['legacy']);
SELECT name, dbname, wrapper FROM multidb.connections WHERE name = 'legacy';
-- not multidb's to drop
SELECT * FROM error_of($$SELECT multidb.drop_connection('legacy')$$);

-- A server of another wrapper is not a connection.
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER elsewhere FOREIGN DATA WRAPPER other_fdw;
SELECT * FROM multidb.fanout('SELECT 1', ARRAY['elsewhere']);
DROP FOREIGN DATA WRAPPER other_fdw CASCADE;

-- Names that are not connections, and lists that are not lists.
SELECT * FROM multidb.fanout('SELECT 1', ARRAY['nowhere']);
SELECT * FROM multidb.fanout('SELECT 1', ARRAY[]::text[]);
SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha', NULL]);
SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha', 'alpha']);
SELECT * FROM multidb.fanout('SELECT 1', NULL);
SELECT * FROM multidb.fanout(NULL, ARRAY['alpha']);

-- Security as postgres_fdw: USAGE on the server, a user mapping, and a password for non-superusers.
CREATE ROLE multidb_regress_user LOGIN;
GRANT USAGE ON SCHEMA multidb TO multidb_regress_user;
SET ROLE multidb_regress_user;
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha'])$$);
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER alpha TO multidb_regress_user;
SET ROLE multidb_regress_user;
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha'])$$);
-- no user mapping: the connection and the role named, and how to make one
SELECT * FROM error_of($$SELECT multidb.check_connections(ARRAY['alpha'])$$);
-- and a connection is dropped only by its owner
SELECT sqlstate_of($$SELECT multidb.drop_connection('alpha')$$);
RESET ROLE;
CREATE USER MAPPING FOR multidb_regress_user SERVER alpha OPTIONS (user 'multidb_regress_user');
SET ROLE multidb_regress_user;
SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha']);
-- only a superuser may waive the password
ALTER USER MAPPING FOR multidb_regress_user SERVER alpha OPTIONS (ADD password_required 'false');
-- and nobody else's password is visible: not in pg_user_mappings, not in multidb.connections
SELECT srvname, CASE WHEN usename = session_user THEN 'the test superuser' ELSE usename END AS usename, umoptions
  FROM pg_user_mappings WHERE srvname = 'alpha' ORDER BY 2;
SELECT count(*) AS columns_named_like_password FROM information_schema.columns
 WHERE table_schema = 'multidb' AND table_name = 'connections' AND column_name ~ 'pass';
RESET ROLE;
DROP USER MAPPING FOR multidb_regress_user SERVER alpha;
REVOKE ALL ON FOREIGN SERVER alpha FROM multidb_regress_user;
REVOKE ALL ON SCHEMA multidb FROM multidb_regress_user;
DROP ROLE multidb_regress_user;
