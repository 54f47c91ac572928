-- The query builder (1.1): a query spec compiled per database against the schema cache (build_plan, build_sql),
-- run (build), and the 22023 of a spec that is wrong in each field. The loopback databases of setup.sql:
-- items (id, name, price) on alpha (3 rows) and beta (2 rows), empty on gamma.
SET search_path = public;

-- fanout: the same statement on each database, identifiers quoted, values as literals
SELECT * FROM multidb.build_sql('{"connections": ["alpha", "beta"], "table": "items", "columns": ["id", "name"],
  "filter": {"column": "price", "op": ">", "value": 1}, "sort": [{"column": "id", "dir": "desc"}]}');
SELECT source_db, row_data FROM multidb.build('{"connections": ["alpha", "beta"], "table": "items",
  "columns": ["id", "name"], "filter": {"column": "price", "op": ">", "value": 1}, "sort": [{"column": "id", "dir": "desc"}]}');
-- the whole plan document
SELECT jsonb_pretty(multidb.build_plan('{"connections": ["alpha"], "table": "public.items", "columns": ["name"],
  "filter": {"and": [{"column": "name", "op": "like", "value": "p%"}, {"column": "id", "op": "in", "value": [2, 3]}]}}'));
-- a value with a quote, a backslash and $$ is one literal
SELECT sql FROM multidb.build_sql($spec${"connections": ["alpha"], "table": "items", "columns": ["id"],
  "filter": {"column": "name", "op": "=", "value": "it's a \\ $$ x"}}$spec$);
SELECT count(*) FROM multidb.build($spec${"connections": ["alpha"], "table": "items", "columns": ["id"],
  "filter": {"column": "name", "op": "=", "value": "it's a \\ $$ x"}}$spec$);

-- totals: per database the partial summaries, then one combined result
SELECT * FROM multidb.build_sql('{"connections": ["alpha", "beta"], "table": "items", "mode": "totals",
  "summaries": [{"fn": "count"}, {"fn": "sum", "column": "price"}, {"fn": "avg", "column": "price"}]}');
SELECT source_db, row_data FROM multidb.build('{"connections": ["alpha", "beta"], "table": "items", "mode": "totals",
  "summaries": [{"fn": "count"}, {"fn": "count_distinct", "column": "name"}, {"fn": "sum", "column": "price"},
                {"fn": "min", "column": "price"}, {"fn": "max", "column": "price", "as": "top"}]}');
SELECT source_db, row_data FROM multidb.build('{"connections": ["alpha", "beta", "gamma"], "table": "items", "mode": "totals",
  "group_by": ["name"], "summaries": [{"fn": "count"}], "sort": [{"column": "name"}]}');

-- compare: the differences between a and b (connections may be omitted)
SELECT source_db, row_data FROM multidb.build('{"table": "items", "mode": "compare",
  "compare": {"a": "alpha", "b": "beta", "key": ["id"]}}') ORDER BY row_data->>'status', row_data->'key'->>'id';
SELECT source_db FROM multidb.build_sql('{"table": "items", "mode": "compare", "compare": {"a": "alpha", "b": "beta"}}');

-- the catalog of several databases
SELECT jsonb_pretty(multidb.spec_catalog(ARRAY['alpha', 'gamma']));

-- bad specs, one per field: 22023 naming it
\set VERBOSITY terse
SELECT multidb.build_plan('[]');
SELECT multidb.build_plan('{"table": "items"}');
SELECT multidb.build_plan('{"connections": "alpha", "table": "items"}');
SELECT multidb.build_plan('{"connections": ["alpha"]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "colums": ["id"]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "columns": [1]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "name", "op": "~", "value": "x"}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "price", "op": "like", "value": "1%"}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"and": [{"column": "id", "op": "=", "value": 1}, {"column": "id", "op": "between", "value": [1]}]}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "id", "op": "in", "value": []}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "id", "op": "is null", "value": 1}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "id", "op": "=", "value": "one"}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "filter": {"column": "id", "op": "last", "value": {"amount": 3, "unit": "fortnight"}}}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "summaries": [{"fn": "median", "column": "price"}]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "summaries": [{"fn": "sum", "column": "name"}]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "group_by": [{"column": "name", "by": "month"}], "summaries": [{"fn": "count"}]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "columns": ["id"], "sort": [{"column": "price"}]}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "limit": 0}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "limit": 2000000}');
SELECT multidb.build_plan('{"connections": ["alpha"], "table": "items", "mode": "sideways"}');
SELECT multidb.build_plan('{"table": "items", "mode": "compare", "compare": {"a": "alpha"}}');
SELECT multidb.build_plan('{"table": "items", "mode": "compare", "compare": {"a": "alpha", "b": "beta"}, "limit": 5}');
SELECT multidb.build_plan('{"connections": ["alpha", "gamma"], "table": "items", "mode": "compare", "compare": {"a": "alpha", "b": "beta"}}');
SELECT multidb.build_plan(NULL);
-- what a database lacks, and connections: as everywhere
\set VERBOSITY default
SELECT multidb.build_plan('{"connections": ["alpha", "beta"], "table": "nothing"}');
SELECT multidb.build_plan('{"connections": ["alpha", "beta"], "table": "items", "columns": ["colour"]}');
SELECT multidb.build_plan('{"connections": ["alpha", "nowhere"], "table": "items"}');

-- a report of a spec: compiled when saved, run through build
SELECT multidb.save_report_spec('cheap_items', '{"connections": ["alpha", "beta"], "table": "items",
  "columns": ["id", "name"], "filter": {"column": "price", "op": "<", "value": 1}}');
SELECT name, question, connections, plan FROM multidb.reports WHERE name = 'cheap_items';
SELECT multidb.run_report('cheap_items') > 0 AS ran;
SELECT status, source_db, row_data FROM multidb.report_runs WHERE report = 'cheap_items' ORDER BY id;
SELECT left(sqlstate_of($$SELECT multidb.save_report_spec('cheap_items', '{"connections": ["alpha"], "table": "items"}')$$), 5) AS name_taken;
SELECT left(sqlstate_of($$SELECT multidb.save_report_spec('bad', '{"connections": ["alpha"], "table": "items", "limit": 0}')$$), 5) AS bad_spec;
DELETE FROM multidb.reports WHERE name = 'cheap_items';
