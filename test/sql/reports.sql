-- Saved reports, run by hand (pg_cron runs them in the TAP tests).
SELECT multidb.save_report_sql('item_counts', 'SELECT count(*) AS items, sum(price) AS total FROM items', ARRAY['alpha', 'beta']);
SELECT multidb.run_report('item_counts') > 0 AS ran;
SELECT report, status, source_db, row_data FROM multidb.report_runs ORDER BY id;
-- the data changes, the next run shows it, and report_diff says what changed
\c multidb_regress_b
INSERT INTO items VALUES (3, 'plum', 2.10);
\c contrib_regression
SET search_path = public;
SELECT multidb.run_report('item_counts') > 0 AS ran;
SELECT change, source_db, row_data FROM multidb.report_diff('item_counts') ORDER BY change;
\c multidb_regress_b
DELETE FROM items WHERE id = 3;
\c contrib_regression
SET search_path = public;
-- a run that fails is recorded as failed, with a WARNING, not lost
SELECT multidb.save_report_sql('broken', 'SELECT * FROM no_such_table', ARRAY['alpha']);
SELECT multidb.run_report('broken') > 0 AS ran;
SELECT status, error FROM multidb.report_runs WHERE report = 'broken';
-- mistakes
SELECT sqlstate_of($$SELECT multidb.save_report_sql('bad', 'DELETE FROM items', ARRAY['alpha'])$$);
SELECT sqlstate_of($$SELECT multidb.run_report('nothing')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.report_diff('broken')$$);
SELECT sqlstate_of($$SELECT multidb.schedule_report('item_counts', '0 6 * * *')$$);
SELECT multidb.schedule_report('item_counts', '0 6 * * *');
DELETE FROM multidb.reports;

-- run_plan: a stored plan, per-database statements then a combine step, without an LLM
SELECT source_db, row_data FROM multidb.run_plan($${
  "queries": [{"database": "alpha", "sql": "SELECT id, name, price FROM items"},
              {"database": "beta", "sql": "SELECT id, name, price FROM items"}],
  "combine": "SELECT a.id, a.name, a.price AS alpha_price, b.price AS beta_price FROM alpha a LEFT JOIN beta b USING (id) WHERE b.price IS DISTINCT FROM a.price ORDER BY a.id"}$$);
-- without a combine step, each database's rows, tagged
SELECT source_db, row_data FROM multidb.run_plan('{"queries": [{"database": "beta", "sql": "SELECT count(*) AS n FROM items"}]}');
-- the step tables have the remote column types
SELECT row_data FROM multidb.run_plan($${
  "queries": [{"database": "alpha", "sql": "SELECT id, price, now() AS at, ARRAY[id] AS ids FROM items"}],
  "combine": "SELECT pg_typeof(id)::text AS id, pg_typeof(price)::text AS price, pg_typeof(at)::text AS at, pg_typeof(ids)::text AS ids FROM alpha LIMIT 1"}$$);
-- repeated column names get _2 as in row_data; in the backend (no worker) the same
SET multidb.max_workers = 0;
SELECT row_data FROM multidb.run_plan($${
  "queries": [{"database": "alpha", "sql": "SELECT id, id * 10 AS id FROM items WHERE id = 1"},
              {"database": "beta", "sql": "SELECT name FROM items WHERE id = 1"}],
  "combine": "SELECT a.id, a.id_2, b.name FROM alpha a, beta b"}$$);
RESET multidb.max_workers;
-- the combine step writes nothing: it runs in a read-only transaction too
BEGIN TRANSACTION READ ONLY;
SELECT row_data FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT price FROM items"}],
  "combine": "SELECT sum(price) AS total FROM alpha"}$$);
COMMIT;
-- mistakes: a combine error names the tables it could read; refused combine steps; bad plans
\set VERBOSITY default
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT price FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT * FROM alpha, multidb.reports"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT * FROM beta"}$$);
-- the combine step may call a volatile function of pg_catalog only if it is a harmless one
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT count(*) FILTER (WHERE random() < 2) AS n FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT setseed(0.5) FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT 0.5::float8 AS s"}],
  "combine": "SELECT (s).setseed FROM alpha"}$$);
-- it calls only functions on values: what reads the catalog, statistics, settings, other sessions, files,
-- sizes, privileges, transaction ids or the version is refused, named, before anything is sent
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT (SELECT string_agg(query, ',') FROM pg_stat_get_activity(NULL))::int AS n FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT name, setting FROM pg_show_all_settings()"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT version() AS v FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT format_type(id, NULL) AS t FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT pg_size_pretty(id::bigint) AS s FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT id::regclass AS c FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT json_populate_record(NULL::pg_type, '{}') AS t FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id FROM items"}],
  "combine": "SELECT current_user AS u FROM alpha"}$$);
SELECT * FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT name FROM items"}],
  "combine": "SELECT name FROM alpha WHERE name @@ 'apple'"}$$);
-- functions on values answer: window functions, aggregates, dates, text, JSON, series, arrays
SELECT row_data FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id, name, price FROM items"},
              {"database": "beta", "sql": "SELECT id, name, price FROM items"}],
  "combine": "SELECT a.id, rank() OVER (ORDER BY a.price DESC) AS rank, sum(a.price) OVER () AS total, format('%s at %s', a.name, a.price) AS label, coalesce(b.price - a.price, 0) AS change FROM alpha a LEFT JOIN beta b USING (id) ORDER BY a.id"}$$);
SELECT row_data FROM multidb.run_plan($${"queries": [{"database": "alpha", "sql": "SELECT id, name FROM items"}],
  "combine": "SELECT string_agg(upper(name), '+' ORDER BY id) AS names, json_agg(id ORDER BY id) AS ids, jsonb_build_object('n', count(*)) AS n, to_char(date_trunc('month', timestamptz '2024-03-15 10:00+00' AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, (SELECT array_agg(g * x ORDER BY g) FROM generate_series(1, 3) g, unnest(ARRAY[10]) x) AS series FROM alpha"}$$);
SELECT sqlstate_of($$SELECT * FROM multidb.run_plan('[]')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.run_plan('{"queries": []}')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.run_plan('{"queries": [{"database": "nowhere", "sql": "SELECT 1"}]}')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.run_plan('{"queries": [{"database": "alpha", "sql": "DELETE FROM items"}]}')$$);
