-- multidb.default_connections: the connections ask, plan and save_report use with neither a session nor
-- connections (0.8).
-- Its syntax is checked when it is set, once the library is loaded: names (double-quoted where not lower-case),
-- groups as '@name'.
LOAD 'multidb';
SET multidb.default_connections = 'alpha, @shops, "Mixed Case"';
SHOW multidb.default_connections;
SET multidb.default_connections = 'alpha,,beta';
SET multidb.default_connections = '"unterminated';
SET multidb.default_connections = '@';
SET multidb.default_connections = '@@shops';
SET multidb.default_connections = 'alpha beta';
SELECT current_setting('multidb.default_connections') AS still_the_last_good_value;
-- Existence is checked at use, and the error names the setting.
SET multidb.default_connections = 'alpha, nosuch';
SELECT multidb.default_connections();
SELECT * FROM multidb.plan('hello');
SET multidb.default_connections = 'alpha, @nosuchgroup';
SELECT multidb.default_connections();
-- A good list is what an ask uses: the ask gets past its connections (to the LLM: there is none here).
SET multidb.default_connections = 'beta, alpha';
SELECT multidb.default_connections();
SELECT sqlstate_of($$SELECT * FROM multidb.ask($q$hello$q$)$$) AS past_the_connections;
SELECT sqlstate_of($$SELECT * FROM multidb.plan($q$hello$q$)$$) AS past_the_connections;
-- Empty, with several usable connections: the ERROR says so, lists them, and names the setting.
RESET multidb.default_connections;
SELECT multidb.default_connections();
SELECT * FROM multidb.ask('hello');
-- Empty, with exactly one usable connection: that one.
CREATE ROLE dc_single;
GRANT USAGE ON FOREIGN SERVER alpha, beta TO dc_single;
CREATE USER MAPPING FOR dc_single SERVER alpha OPTIONS (user 'x', password 'y');
SET ROLE dc_single;
SELECT multidb.default_connections();
-- A setting per role applies at the role's log-in; SET ROLE does not read it, so set it here as it would be.
SET multidb.default_connections = 'beta';
SELECT multidb.default_connections();
RESET multidb.default_connections;
RESET ROLE;
-- None usable: the ERROR says how to add one.
CREATE ROLE dc_none;
SET ROLE dc_none;
SELECT multidb.default_connections();
RESET ROLE;
-- ALTER ROLE ... SET checks the syntax too once the library is loaded.
ALTER ROLE dc_single SET multidb.default_connections = 'alpha,,';
ALTER ROLE dc_single SET multidb.default_connections = 'alpha, @shops';
SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'dc_single'::regrole;
ALTER ROLE dc_single RESET multidb.default_connections;
DROP USER MAPPING FOR dc_single SERVER alpha;
REVOKE USAGE ON FOREIGN SERVER alpha, beta FROM dc_single;
DROP ROLE dc_single;
DROP ROLE dc_none;
