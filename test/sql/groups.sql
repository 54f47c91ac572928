-- Connection groups: '@name' wherever connections are listed.
\getenv pgport PGPORT
\getenv password MULTIDB_TEST_PASSWORD
SELECT multidb.create_group('pair', ARRAY['alpha', 'beta']);
SELECT multidb.create_group('@trio', ARRAY['alpha', 'beta', 'gamma']);
SELECT name, connections, owner = current_user AS mine FROM multidb.connection_groups ORDER BY name;
SELECT * FROM multidb.fanout('SELECT count(*) AS items FROM items', ARRAY['@pair']);
-- a member reached again through a group is queried once; array order decides
SELECT source_db FROM multidb.fanout('SELECT 1', ARRAY['gamma', '@trio', 'beta']);
SELECT * FROM multidb.fanout_rows('SELECT count(*) FROM items', ARRAY['@trio']) AS t(source_db text, n int);
-- sessions keep '@pair' and expand it at every ask
SELECT multidb.create_session('grouped', ARRAY['@pair']) IS NOT NULL AS created;
SELECT connections FROM multidb.chat_sessions WHERE name = 'grouped';
-- mistakes
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['@nothing'])$$);
SELECT sqlstate_of($$SELECT multidb.create_group('pair', ARRAY['alpha'])$$);
SELECT sqlstate_of($$SELECT multidb.create_group('nested', ARRAY['@pair'])$$);
SELECT sqlstate_of($$SELECT multidb.create_group('bad', ARRAY['alpha', 'nowhere'])$$);
SELECT sqlstate_of($$SELECT multidb.create_group('empty', ARRAY[]::text[])$$);
SELECT sqlstate_of($$SELECT multidb.add_connection('@sneaky', 'host=x')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['alpha', '@pair', 'alpha'])$$);
-- alter_group: members added and removed, validated as create_group validates them
SELECT multidb.create_group('duo', ARRAY['alpha']);
SELECT multidb.alter_group('duo', add => ARRAY['beta', 'gamma']);
SELECT multidb.alter_group('@duo', remove => ARRAY['gamma']);
SELECT connections FROM multidb.connection_groups WHERE name = 'duo';
SELECT * FROM error_of($$SELECT multidb.alter_group('duo')$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('nothing', add => ARRAY['alpha'])$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('duo', add => ARRAY['nowhere'])$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('duo', add => ARRAY['alpha'])$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('duo', add => ARRAY['@pair'])$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('duo', remove => ARRAY['gamma'])$$);
SELECT * FROM error_of($$SELECT multidb.alter_group('duo', remove => ARRAY['alpha', 'beta'])$$);
SELECT connections FROM multidb.connection_groups WHERE name = 'duo';
-- a member dropped behind the group's back: the error names the group and how to take the member out
SELECT multidb.add_connection('tmpc', format('host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_remote password=%s', :'pgport', :'password'));
SELECT multidb.alter_group('duo', add => ARRAY['tmpc']);
SET client_min_messages = warning;
DROP SERVER tmpc CASCADE;
RESET client_min_messages;
SELECT * FROM error_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['@duo'])$$);
SELECT multidb.alter_group('duo', remove => ARRAY['tmpc']);
-- drop_connection refuses while groups, sessions and reports name the connection, listing them; cascade takes it
-- out of them (a group or report left empty is dropped)
SELECT multidb.add_connection('tmpd', format('host=127.0.0.1 port=%s dbname=multidb_regress_a user=multidb_regress_remote password=%s', :'pgport', :'password'));
SELECT multidb.alter_group('duo', add => ARRAY['tmpd']);
SELECT multidb.create_group('solo', ARRAY['tmpd']);
SELECT multidb.create_session('with_tmpd', ARRAY['alpha', 'tmpd']) IS NOT NULL AS created;
SELECT multidb.save_report_sql('tmpd_only', 'SELECT 1 AS one', ARRAY['tmpd']);
SELECT * FROM error_of($$SELECT multidb.drop_connection('tmpd')$$);
SELECT multidb.drop_connection('tmpd', cascade => true);
SELECT name, connections FROM multidb.connection_groups WHERE name IN ('duo', 'solo') ORDER BY name;
SELECT connections FROM multidb.chat_sessions WHERE name = 'with_tmpd';
SELECT count(*) AS servers_left FROM pg_foreign_server WHERE srvname = 'tmpd';
SELECT count(*) AS reports_left FROM multidb.reports WHERE name = 'tmpd_only';
DELETE FROM multidb.chat_sessions WHERE name = 'with_tmpd';
-- another role sees groups but cannot change them, and using one needs USAGE on its members
CREATE ROLE multidb_regress_grouper;
SET ROLE multidb_regress_grouper;
SELECT count(*) FROM multidb.connection_groups;
SELECT sqlstate_of($$SELECT multidb.drop_group('pair')$$);
SELECT sqlstate_of($$SELECT multidb.alter_group('pair', add => ARRAY['gamma'])$$);
SELECT sqlstate_of($$SELECT multidb.drop_connection('alpha')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['@pair'])$$);
RESET ROLE;
DROP ROLE multidb_regress_grouper;
SELECT multidb.drop_group('duo');
SELECT multidb.drop_group('@pair');
SELECT multidb.drop_group('trio');
SELECT sqlstate_of($$SELECT multidb.drop_group('trio')$$);
DELETE FROM multidb.chat_sessions WHERE name = 'grouped';
