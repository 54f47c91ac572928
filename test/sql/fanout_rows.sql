-- fanout_rows: typed rows through the local types' input functions.
SELECT * FROM multidb.fanout_rows('SELECT id, name, price FROM items ORDER BY id', ARRAY['alpha', 'beta'])
  AS t(source_db text, id int, name text, price numeric);
SELECT source_db, sum(price) AS revenue, pg_typeof(sum(price))
  FROM multidb.fanout_rows('SELECT id, price FROM items', ARRAY['alpha', 'beta', 'gamma'])
       AS t(source_db text, id bigint, price numeric(10,2))
 GROUP BY source_db ORDER BY source_db;
-- values convert into any type that accepts their text
SELECT * FROM multidb.fanout_rows($$SELECT '2024-02-29 12:00:00+00'::timestamptz, '{"a":1}'::json, 'yes'::text,
                                           '1 day'::interval, '{1,2}'::int[]$$, ARRAY['alpha'])
  AS t(source_db text, ts timestamptz, j jsonb, b boolean, iv interval, arr int[]);
-- INSERT ... SELECT gets real types
CREATE TABLE collected (source_db text, id int, price numeric(10,2));
INSERT INTO collected SELECT * FROM multidb.fanout_rows('SELECT id, price FROM items', ARRAY['alpha', 'beta'])
  AS t(source_db text, id int, price numeric(10,2));
SELECT * FROM collected ORDER BY source_db, id;
DROP TABLE collected;
-- a domain's constraints are checked, NULLs included
CREATE DOMAIN positive_price AS numeric CHECK (VALUE > 1) NOT NULL;
SELECT * FROM multidb.fanout_rows('SELECT price FROM items ORDER BY id', ARRAY['alpha']) AS t(source_db text, p positive_price);
SELECT * FROM multidb.fanout_rows('SELECT NULL::numeric', ARRAY['alpha']) AS t(source_db text, p positive_price);
DROP DOMAIN positive_price;

-- Wrong column lists: the error lists the remote result's columns and types.
SELECT * FROM multidb.fanout_rows('SELECT id, name FROM items', ARRAY['alpha']) AS t(source_db text, id int);
SELECT * FROM multidb.fanout_rows('SELECT id, name FROM items', ARRAY['alpha'])
  AS t(source_db text, id int, name text, extra text);
SELECT * FROM multidb.fanout_rows('SELECT id, name FROM items ORDER BY id', ARRAY['alpha'])
  AS t(source_db text, id int, name int);
SELECT * FROM multidb.fanout_rows('SELECT id FROM items', ARRAY['alpha']) AS t(db int, id int);
SELECT * FROM multidb.fanout_rows('SELECT id FROM items', ARRAY['alpha']);
-- the column definition list is checked even when a database returns no rows
SELECT * FROM multidb.fanout_rows('SELECT id, name FROM items', ARRAY['gamma']) AS t(source_db text, id int);
-- a column of a type of the remote's own (an enum the coordinator does not have): said so, with the cast to add
\c multidb_regress_a
CREATE TYPE mood AS ENUM ('fine', 'grumpy');
CREATE TABLE moods (id int, m mood);
INSERT INTO moods VALUES (1, 'fine');
\c contrib_regression
SELECT * FROM error_of($$SELECT * FROM multidb.fanout_rows('SELECT * FROM moods', ARRAY['alpha']) AS t(source_db text, id int)$$);
SELECT * FROM multidb.fanout_rows('SELECT id, m::text FROM moods', ARRAY['alpha']) AS t(source_db text, id int, m text);
\c multidb_regress_a
DROP TABLE moods;
DROP TYPE mood;
\c contrib_regression
