-- Connection groups: '@name' wherever connections are listed.
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
-- another role sees groups but cannot change them, and using one needs USAGE on its members
CREATE ROLE multidb_regress_grouper;
SET ROLE multidb_regress_grouper;
SELECT count(*) FROM multidb.connection_groups;
SELECT sqlstate_of($$SELECT multidb.drop_group('pair')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['@pair'])$$);
RESET ROLE;
DROP ROLE multidb_regress_grouper;
SELECT multidb.drop_group('@pair');
SELECT multidb.drop_group('trio');
SELECT sqlstate_of($$SELECT multidb.drop_group('trio')$$);
DELETE FROM multidb.chat_sessions WHERE name = 'grouped';
