-- fanout: one statement on many connections, rows tagged with their connection, in array order.
SELECT * FROM multidb.fanout('SELECT id, name, price FROM items ORDER BY id', ARRAY['alpha', 'beta', 'gamma']);
-- array order, not name order; remote row order kept
SELECT * FROM multidb.fanout('SELECT id FROM items ORDER BY id DESC', ARRAY['beta', 'alpha']);
SELECT * FROM multidb.fanout('SELECT current_database() AS db', ARRAY['gamma', 'alpha', 'beta']);
-- many rows from several databases still come back in connection order
SELECT source_db, count(*), min((row_data->>'g')::int), max((row_data->>'g')::int),
       bool_and((row_data->>'g')::int = expected) AS in_remote_order
  FROM (SELECT f.*, row_number() OVER (PARTITION BY source_db ORDER BY ordinality) AS expected
          FROM multidb.fanout('SELECT g FROM generate_series(1, 20000) g', ARRAY['gamma', 'alpha', 'beta'])
               WITH ORDINALITY f) s
 GROUP BY source_db ORDER BY min(ordinality);

-- multidb.max_workers = 0: every target runs inside this backend, same rows, same order.
SET multidb.max_workers = 0;
SELECT * FROM multidb.fanout('SELECT id FROM items ORDER BY id DESC', ARRAY['beta', 'gamma', 'alpha']);
SELECT * FROM multidb.fanout('SELECT * FROM no_such_table', ARRAY['beta']);
-- and with one worker at a time, the others queue
SET multidb.max_workers = 1;
SELECT source_db, count(*) FROM multidb.fanout('SELECT g FROM generate_series(1, 1000) g', ARRAY['gamma', 'alpha', 'beta'])
 GROUP BY source_db ORDER BY source_db;
RESET multidb.max_workers;

-- JSON typing: numbers, booleans, embedded JSON, null, and strings for everything else.
SELECT row_data FROM multidb.fanout($$
  SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 1.5::float4 AS f4, 0.1::float8 AS f8,
         123456789012345678901234567890.123456789::numeric AS big, 2.50::numeric(5,2) AS money_like,
         'NaN'::numeric AS nan, '-Infinity'::float8 AS minus_inf,
         true AS yes, false AS no, NULL::int AS nothing,
         '{"a": [1, {"b": null}]}'::json AS j, '[1, "x"]'::jsonb AS jb, '"scalar"'::jsonb AS jscalar,
         'text "quoted" \ back' AS t, 'é ü 日本' AS unicode, E'line\nbreak' AS nl,
         '2024-02-29 12:34:56+00'::timestamptz AS ts, '2024-02-29'::date AS d, interval '1 day 2 hours' AS iv,
         '{1,2}'::int[] AS arr, 42::oid AS o, '\x00ff'::bytea AS b, 12.5::money AS m
$$, ARRAY['alpha']);
SELECT jsonb_typeof(row_data->'i8') AS i8, jsonb_typeof(row_data->'yes') AS yes, jsonb_typeof(row_data->'j') AS j,
       jsonb_typeof(row_data->'nan') AS nan, jsonb_typeof(row_data->'nothing') AS nothing,
       jsonb_typeof(row_data->'arr') AS arr
  FROM multidb.fanout($$SELECT 9007199254740993::int8 AS i8, true AS yes, '{}'::json AS j, 'NaN'::numeric AS nan,
                             NULL::int AS nothing, '{1,2}'::int[] AS arr$$, ARRAY['alpha']);

-- Repeated column names get _2, _3, ...; names already taken are skipped.
SELECT row_data FROM multidb.fanout('SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS a, 5 AS "?column?", 6', ARRAY['alpha']);

-- No rows, no columns.
SELECT * FROM multidb.fanout('SELECT * FROM items WHERE false', ARRAY['alpha', 'gamma']);
SELECT * FROM multidb.fanout('SELECT FROM items', ARRAY['alpha']);

-- A remote error names the connection and keeps the remote SQLSTATE, detail and hint.
SELECT * FROM multidb.fanout('SELECT * FROM no_such_table', ARRAY['alpha']);
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1/0', ARRAY['beta'])$$);
SELECT * FROM multidb.fanout($$SELECT '{"a":1}'::jsonb #> '{'$$, ARRAY['alpha']);
-- a failure after some rows: the whole call fails
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1/(3 - g) FROM generate_series(1, 5) g', ARRAY['alpha'])$$);

-- multidb.on_error = warn: one WARNING per failed database, the others' rows still come back.
CREATE SERVER unreachable FOREIGN DATA WRAPPER multidb OPTIONS (host '127.0.0.1', port '1', dbname 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER unreachable OPTIONS (user 'x', password 'x');
SET multidb.on_error = warn;
SELECT * FROM multidb.fanout('SELECT id, name FROM items ORDER BY id', ARRAY['alpha', 'unreachable', 'beta']);
-- rows already received before a failure are kept, and the WARNING says so (one row per FETCH here)
SET multidb.fetch_size = 1;
SELECT * FROM multidb.fanout($$SELECT id, 10 / (id - 2) AS q FROM items ORDER BY id$$, ARRAY['beta', 'gamma']);
RESET multidb.fetch_size;
RESET multidb.on_error;
SET multidb.on_error = 'sometimes';

-- Walls behind the guard's lists: a function VOLATILE on that remote (its own pg_proc says so) is refused
-- before the statement is sent, though no list of multidb's names it; a STABLE one that tries to write
-- anyway meets the remote's read-only rules.
\c multidb_regress_a
CREATE FUNCTION sneaky_write() RETURNS int LANGUAGE sql AS 'INSERT INTO items VALUES (99, ''x'', 0) RETURNING id';
CREATE FUNCTION sneaky_stable_write() RETURNS int STABLE LANGUAGE plpgsql
  AS $$BEGIN EXECUTE 'INSERT INTO items VALUES (98, ''x'', 0)'; RETURN 1; END$$;
CREATE FUNCTION noisy() RETURNS int STABLE LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'hello'; RAISE WARNING 'careful'; RETURN 1; END$$;
CREATE FUNCTION stamp() RETURNS text VOLATILE LANGUAGE sql AS $$SELECT 'stamped'$$;
\c contrib_regression
-- a harmless volatile function a superuser allowed: in a worker and in this backend alike
SELECT * FROM multidb.fanout('SELECT stamp()', ARRAY['alpha']);
SET multidb.extra_allowed_volatile_functions = 'public.stamp';
SELECT * FROM multidb.fanout('SELECT stamp()', ARRAY['alpha']);
SET multidb.max_workers = 0;
SELECT * FROM multidb.fanout('SELECT stamp()', ARRAY['alpha']);
RESET multidb.max_workers;
SET multidb.extra_allowed_volatile_functions = 'other.stamp';
SELECT * FROM multidb.fanout('SELECT stamp()', ARRAY['alpha']);
RESET multidb.extra_allowed_volatile_functions;
-- remote notices and warnings reach the caller, naming the connection
SELECT * FROM multidb.fanout('SELECT noisy()', ARRAY['alpha']);
SELECT * FROM multidb.fanout('SELECT sneaky_write()', ARRAY['alpha']);
SELECT * FROM multidb.fanout('SELECT sneaky_stable_write()', ARRAY['alpha']);
SELECT * FROM multidb.fanout('SELECT count(*) AS n FROM items WHERE id IN (98, 99)', ARRAY['alpha']);
-- remote sessions run with fixed formats and the caller's time zone
SET TimeZone = 'Asia/Tokyo';
SELECT row_data FROM multidb.fanout($$SELECT '2024-01-01 00:00:00+00'::timestamptz AS ts,
                                              current_setting('DateStyle') AS datestyle,
                                              current_setting('transaction_read_only') AS read_only,
                                              current_setting('application_name') AS app$$, ARRAY['alpha']);
RESET TimeZone;
-- a remote statement_timeout from multidb.statement_timeout
SET multidb.statement_timeout = '100ms';
SELECT * FROM multidb.fanout('SELECT pg_sleep(2)', ARRAY['alpha']);
RESET multidb.statement_timeout;
-- an unreachable server fails fast with 08001 and names the connection
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['unreachable'])$$) ~ '^08001: connection "unreachable": could not connect' AS fails_cleanly;
-- a wrong password
CREATE SERVER wrong_password FOREIGN DATA WRAPPER multidb OPTIONS (host '127.0.0.1', dbname 'multidb_regress_a');
DO $$ BEGIN EXECUTE format('ALTER SERVER wrong_password OPTIONS (ADD port %L)', current_setting('port')); END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER wrong_password OPTIONS (user 'nobody_here', password 'wrong');
SELECT sqlstate_of($$SELECT * FROM multidb.fanout('SELECT 1', ARRAY['wrong_password'])$$) ~ '^08001: connection "wrong_password": could not connect.*password authentication failed' AS refused;
SET client_min_messages = warning;
DROP SERVER unreachable CASCADE;
DROP SERVER wrong_password CASCADE;

-- The widest result a row can hold, 1,664 columns, in a worker and in this backend (names were kept in a
-- fixed array of 1,600 before).
SELECT source_db, (SELECT count(*) FROM jsonb_object_keys(row_data)) AS keys, row_data->>'c1664' AS last
  FROM multidb.fanout((SELECT 'SELECT ' || string_agg(g || ' AS c' || g, ', ') FROM generate_series(1, 1664) g),
                      ARRAY['alpha']);
SET multidb.max_workers = 0;
SELECT source_db, (SELECT count(*) FROM jsonb_object_keys(row_data)) AS keys
  FROM multidb.fanout((SELECT 'SELECT ' || string_agg('1 AS same', ', ') FROM generate_series(1, 1664) g),
                      ARRAY['alpha']);
RESET multidb.max_workers;
