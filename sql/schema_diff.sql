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
