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
