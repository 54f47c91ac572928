-- schema_diff: make beta differ from alpha on purpose, in every kind of object.
\c multidb_regress_b
ALTER TABLE items ALTER COLUMN name SET NOT NULL;
ALTER TABLE items ADD COLUMN stock int DEFAULT 0;
CREATE INDEX items_name ON items (name);
CREATE TABLE extra (id int PRIMARY KEY);
CREATE VIEW cheap AS SELECT * FROM items WHERE price < 1;
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS 'SELECT 2 * x';
\c multidb_regress_a
CREATE VIEW cheap AS SELECT * FROM items WHERE price < 2;
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS 'SELECT x + x';
\c contrib_regression
SET search_path = public;
SELECT object_kind, object_name, difference, a_definition, b_definition FROM multidb.schema_diff('alpha', 'beta');
-- the same database against itself through another connection: nothing
SELECT count(*) FROM multidb.schema_diff('alpha', 'legacy');
SELECT * FROM multidb.schema_diff('alpha', 'alpha');
-- The catalogs come from the schema cache while it is fresh and a cheap probe finds the remote catalogs
-- unchanged; a change is noticed at once, and refresh => true reads them again in any case.
SELECT fetched_at AS alpha_fetched FROM multidb.schema_cache WHERE connection = 'alpha' \gset
SELECT count(*) > 0 AS differs FROM multidb.schema_diff('alpha', 'beta');
SELECT fetched_at = :'alpha_fetched' AS reused FROM multidb.schema_cache WHERE connection = 'alpha';
\c multidb_regress_b
DROP FUNCTION twice(int);
\c contrib_regression
SET search_path = public;
SELECT object_kind, object_name, difference FROM multidb.schema_diff('alpha', 'beta') WHERE object_kind = 'function';
SELECT count(*) > 0 AS differs FROM multidb.schema_diff('alpha', 'beta', refresh => true);
SELECT fetched_at > :'alpha_fetched' AS read_again FROM multidb.schema_cache WHERE connection = 'alpha';
SELECT object_kind, count(*) FROM multidb.catalog_objects(ARRAY['alpha']) GROUP BY 1 ORDER BY 1;
