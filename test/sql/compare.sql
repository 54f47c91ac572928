-- multidb.compare: alpha and beta differ in one price and one missing row.
SELECT * FROM multidb.compare('SELECT id, name, price FROM items', 'alpha', 'beta', ARRAY['id']);
-- without a key, whole rows: a changed row is one only in a and one only in b
SELECT * FROM multidb.compare('SELECT name, price FROM items;', 'alpha', 'beta') ORDER BY status, a_row::text, b_row::text;
-- duplicates count: a multiset comparison
SELECT * FROM multidb.compare('SELECT 1 AS x FROM generate_series(1, 3 - (current_database() = ''multidb_regress_b'')::int)', 'alpha', 'beta');
-- identical sides give nothing, also for many rows with text keys in any collation
SELECT count(*) FROM multidb.compare($$SELECT 'k' || g AS id, g % 7 AS v FROM generate_series(1, 50000) g$$, 'alpha', 'gamma', ARRAY['id']);
SELECT status, count(*) FROM multidb.compare(
  $$SELECT g AS id, CASE WHEN current_database() = 'multidb_regress_c' AND g % 1000 = 0 THEN -1 ELSE g END AS v
      FROM generate_series(1, 100000 - (current_database() = 'multidb_regress_c')::int * 5) g$$,
  'alpha', 'gamma', ARRAY['id']) GROUP BY status ORDER BY status;
-- a composite key; the key column comes back as jsonb
SELECT status, key FROM multidb.compare($$SELECT 1 AS a, 'x' AS b, current_database() AS db$$, 'alpha', 'beta', ARRAY['a', 'b']);
-- mistakes
SELECT * FROM multidb.compare('DELETE FROM items', 'alpha', 'beta');
SELECT * FROM multidb.compare('SELECT 1', 'alpha', 'alpha');
SELECT * FROM multidb.compare('SELECT id FROM items', 'alpha', 'beta', ARRAY['nope']);
SELECT * FROM multidb.compare('SELECT 1', 'alpha', NULL);
-- a key that is not in the SELECT list: named, with the statement's columns
SELECT * FROM error_of($$SELECT * FROM multidb.compare('SELECT name FROM items', 'alpha', 'beta', ARRAY['id'])$$);
-- (a table that drifted between a and b, for the rest of this file)
\c multidb_regress_a
CREATE TABLE drifted (id int, name text, status text, old_note text);
INSERT INTO drifted VALUES (1, 'apple', 'ok', 'x'), (2, 'pear', 'ok', 'y');
\c multidb_regress_b
CREATE TABLE drifted (id int, name text, status int, new_note date);
INSERT INTO drifted VALUES (1, 'apple', 1, '2026-01-01'), (2, 'pears', 1, '2026-01-02');
\c contrib_regression
-- two sides whose columns drifted (SELECT * over tables that changed): an ERROR saying what differs, either way
-- round, instead of rows that all differ
SELECT * FROM error_of($$SELECT * FROM multidb.compare('SELECT * FROM drifted', 'alpha', 'beta', ARRAY['id'])$$);
SELECT * FROM error_of($$SELECT * FROM multidb.compare('SELECT * FROM drifted', 'beta', 'alpha')$$);
-- columns => 'common' compares the columns both sides have, and says which it left out
SELECT * FROM multidb.compare('SELECT * FROM drifted', 'alpha', 'beta', ARRAY['id'], columns => 'common');
SELECT * FROM multidb.compare('SELECT id, name FROM drifted', 'alpha', 'beta', ARRAY['id'], columns => 'common');
SELECT * FROM error_of($$SELECT * FROM multidb.compare('SELECT * FROM drifted', 'alpha', 'beta', ARRAY['old_note'], columns => 'common')$$);
SELECT * FROM error_of($$SELECT * FROM multidb.compare('SELECT 1', 'alpha', 'beta', columns => 'some')$$);
\c multidb_regress_a
DROP TABLE drifted;
\c multidb_regress_b
DROP TABLE drifted;
\c contrib_regression
