-- The read-only guard: Postgres's own parser decides; a refusal is SQLSTATE 42501 and nothing is sent.
-- Allowed: queries in all their forms.
SELECT multidb.check_sql('SELECT 1');
SELECT multidb.check_sql('SELECT * FROM items WHERE id IN (SELECT id FROM items) ORDER BY 1 LIMIT 2');
SELECT multidb.check_sql('WITH x AS (SELECT 1 AS a) SELECT * FROM x UNION ALL SELECT 2');
SELECT multidb.check_sql('VALUES (1), (2)');
SELECT multidb.check_sql('TABLE items');
SELECT multidb.check_sql('SELECT count(*), pg_sleep(0), now(), current_setting(''work_mem'') FROM items');
SELECT multidb.check_sql('SELECT 1;');

-- Refused: one verdict per kind of statement.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    'DELETE FROM items',
    'UPDATE items SET price = 0',
    'INSERT INTO items VALUES (9, ''x'', 1)',
    'MERGE INTO items USING items s ON true WHEN MATCHED THEN DELETE',
    'TRUNCATE items',
    'DROP TABLE items',
    'GRANT ALL ON items TO PUBLIC',
    'CREATE TABLE t AS SELECT 1',
    'SELECT * INTO t FROM items',
    'SELECT * FROM items FOR UPDATE',
    'SELECT * FROM (SELECT * FROM items FOR SHARE) s',
    'WITH d AS (DELETE FROM items RETURNING *) SELECT * FROM d',
    'SELECT * FROM items WHERE id IN (WITH u AS (UPDATE items SET price = 0 RETURNING id) SELECT id FROM u)',
    'SELECT 1; DELETE FROM items',
    'SELECT 1; SELECT 2',
    '',
    '   ;  ',
    'COPY items TO STDOUT',
    'EXPLAIN ANALYZE DELETE FROM items',
    'SET default_transaction_read_only = off',
    'BEGIN',
    'CALL p()',
    'DO $$ BEGIN END $$',
    'LOCK TABLE items',
    'VACUUM items',
    'PREPARE p AS SELECT 1',
    'SELEC 1'
  ]) AS t;

-- Refused: functions that act outside the query, wherever they hide.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    'SELECT pg_terminate_backend(1)',
    'SELECT pg_catalog.pg_cancel_backend(1)',
    'SELECT PG_RELOAD_CONF()',
    'SELECT pg_rotate_logfile()',
    'SELECT set_config(''work_mem'', ''1GB'', false)',
    'SELECT pg_read_file(''/etc/passwd'')',
    'SELECT * FROM pg_read_binary_file(''/etc/passwd'')',
    'SELECT * FROM pg_ls_dir(''.'')',
    'SELECT pg_stat_file(''.'')',
    'SELECT lo_import(''/etc/passwd'')',
    'SELECT lo_export(1, ''/tmp/x'')',
    'SELECT lo_unlink(1)',
    'SELECT lo_create(0)',
    'SELECT * FROM dblink(''host=x'', ''DELETE FROM t'') AS t(a int)',
    'SELECT dblink_exec(''DELETE FROM t'')',
    'SELECT pg_advisory_lock(1)',
    'SELECT pg_try_advisory_xact_lock(1)',
    'SELECT pg_notify(''c'', ''x'')',
    'SELECT nextval(''s'')',
    'SELECT setval(''s'', 1)',
    'SELECT pg_switch_wal()',
    'SELECT pg_create_logical_replication_slot(''s'', ''pgoutput'')',
    'SELECT pg_create_physical_replication_slot(''s'')',
    'SELECT query_to_xml(''DELETE FROM items'', true, true, '''')',
    'SELECT id FROM items WHERE id = (SELECT pg_terminate_backend(1)::int)',
    'SELECT * FROM items ORDER BY pg_advisory_lock(id)',
    'WITH x AS (SELECT nextval(''s'')) SELECT * FROM x',
    'SELECT (SELECT set_config(''a.b'', ''c'', false)) FROM items GROUP BY 1 HAVING count(*) > 0'
  ]) AS t;

-- The list lives in one place and a superuser may extend it.
SELECT count(*) > 30 AS has_builtin_list, bool_or(p = 'pg_advisory_*') AS globs FROM multidb.denied_functions() p;
SELECT multidb.check_sql('SELECT my_audit_log(1)');
SET multidb.extra_denied_functions = 'my_audit_*, purge_everything';
SELECT multidb.check_sql('SELECT my_audit_log(1)');
SELECT multidb.check_sql('SELECT PURGE_everything()');
SELECT p FROM multidb.denied_functions() p WHERE p IN ('my_audit_*', 'purge_everything');
SET multidb.extra_denied_functions = 'bad name;';
RESET multidb.extra_denied_functions;
SELECT multidb.check_sql('SELECT my_audit_log(1)');
CREATE ROLE multidb_regress_plain;
SET ROLE multidb_regress_plain;
SET multidb.extra_denied_functions = '';
RESET ROLE;
DROP ROLE multidb_regress_plain;

-- The guard stands in front of fanout too: nothing reaches the remote.
SELECT * FROM multidb.fanout('DELETE FROM items', ARRAY['alpha', 'beta']);
SELECT * FROM multidb.fanout('SELECT 1; DELETE FROM items', ARRAY['alpha']);
SELECT * FROM multidb.fanout_rows('WITH d AS (DELETE FROM items RETURNING id) SELECT * FROM d', ARRAY['alpha'])
  AS t(source_db text, id int);
SELECT source_db, row_data FROM multidb.fanout('SELECT count(*) AS n, sum(price) AS total FROM items',
                                               ARRAY['alpha', 'beta']);

-- functions that run SQL text or read whole tables from inside the call
SELECT multidb.check_sql($$SELECT * FROM ts_stat('SELECT pg_terminate_backend(1)')$$);
SELECT multidb.check_sql($$SELECT table_to_xml('items', true, false, '')$$);

-- One reading of the text on both sides. The guard reads as a standard-conforming server does, whatever
-- this session's setting: a call hidden "inside a string" for a session with standard_conforming_strings
-- off is a call all the same (the remotes are pinned to on).
SET standard_conforming_strings = off;
SELECT sqlstate_of($q$SELECT multidb.check_sql($$SELECT 'x\', pg_cancel_backend(0) -- '$$)$q$);
SELECT sqlstate_of($q$SELECT multidb.check_sql($$SELECT 'x\', dblink_exec('host=x', 'DROP TABLE t') -- '$$)$q$);
RESET standard_conforming_strings;
-- and the other way round: what is one string to the guard stays one string on a remote whose role
-- says standard_conforming_strings = off
\c multidb_regress_a
ALTER ROLE multidb_regress_remote IN DATABASE multidb_regress_a SET standard_conforming_strings = off;
\c contrib_regression
SELECT multidb.check_sql($$SELECT '\'', pg_cancel_backend(0) --'$$);
SELECT source_db, row_data FROM multidb.fanout($$SELECT '\'', pg_cancel_backend(0) --' AS text$$, ARRAY['alpha']);
SELECT source_db, row_data FROM multidb.fanout('SELECT current_setting(''standard_conforming_strings'') AS scs', ARRAY['alpha']);
\c multidb_regress_a
ALTER ROLE multidb_regress_remote IN DATABASE multidb_regress_a RESET standard_conforming_strings;
\c contrib_regression

-- Text the lexer cannot read is always 42601, whatever code the lexer raised.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    $$SELECT E'\u00zz'$$,
    $$SELECT U&'\00zz'$$,
    $$SELECT U&'d!0061t' UESCAPE '!!'$$,
    $$SELECT E'\xff\xfe'$$,
    $$SELECT 'unterminated$$,
    $$SELECT 1e$$
  ]) t;

-- Calls in attribute notation: x.f and (x).f call f(x) when x has no column f.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    'SELECT (0).pg_cancel_backend',
    'SELECT (pid).pg_terminate_backend FROM pg_stat_activity',
    'SELECT s.pg_cancel_backend FROM (SELECT 0) s',
    'SELECT (((''x'')::text)).pg_notify',
    'SELECT (s.r).set_config FROM (SELECT 1) s(r)'
  ]) t;
-- a column reached the same way is still a column
SELECT multidb.check_sql('SELECT s.id, (s).name, items.price FROM items s, items');

-- Relations that expose the server's files or secrets, in any schema and any position.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    'SELECT * FROM pg_hba_file_rules',
    'TABLE pg_catalog.pg_file_settings',
    'SELECT * FROM pg_ident_file_mappings',
    'SELECT (SELECT rolpassword FROM pg_authid LIMIT 1)',
    'SELECT usename FROM pg_shadow',
    'SELECT umoptions FROM pg_user_mappings',
    'WITH s AS (SELECT * FROM pg_statistic) SELECT count(*) FROM s',
    'SELECT data FROM pg_largeobject',
    'SELECT * FROM pg_hba_file_rules()'
  ]) t;

-- SQL-text runners of contrib that are not even volatile: by name.
SELECT t AS statement, sqlstate_of(format('SELECT multidb.check_sql(%L)', t)) AS verdict
  FROM unnest(ARRAY[
    $$SELECT * FROM crosstab('SELECT 1, 2, 3') AS c(a int, b int)$$,
    $$SELECT * FROM public.crosstab3('SELECT 1')$$,
    $$SELECT * FROM connectby('items', 'id', 'parent', '1', 0) AS t(id int, parent int, level int)$$,
    $$SELECT * FROM xpath_table('id', 'x', 'items; DROP TABLE items', '/a', 'true') AS t(id int, a text)$$,
    $$SELECT xslt_process('<a/>', '<xsl:stylesheet/>')$$
  ]) t;

-- The lists behind the walls, and the superuser's additions to the harmless volatile functions.
SELECT * FROM multidb.denied_relations();
SELECT count(*) >= 20 AS builtins, bool_and(p LIKE 'pg_catalog.%') AS all_in_pg_catalog
  FROM multidb.allowed_volatile_functions() p;
SET multidb.extra_allowed_volatile_functions = 'uuid_generate_v4, Audit.Stamp_*';
SELECT p FROM multidb.allowed_volatile_functions() p WHERE p NOT LIKE 'pg_catalog.%';
SET multidb.extra_allowed_volatile_functions = 'f()';
SET multidb.extra_allowed_volatile_functions = '.f';
RESET multidb.extra_allowed_volatile_functions;
CREATE ROLE multidb_regress_plain2;
SET ROLE multidb_regress_plain2;
SET multidb.extra_allowed_volatile_functions = 'pg_terminate_backend';
RESET ROLE;
DROP ROLE multidb_regress_plain2;
