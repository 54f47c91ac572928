-- Loopback "remote" databases on the test server itself, reached over TCP with a password.
-- The harness exports PGPORT and MULTIDB_TEST_PASSWORD (the password of the role running the tests).
\getenv pgport PGPORT
\getenv password MULTIDB_TEST_PASSWORD
SET client_min_messages = warning;
DROP DATABASE IF EXISTS multidb_regress_a;
DROP DATABASE IF EXISTS multidb_regress_b;
DROP DATABASE IF EXISTS multidb_regress_c;
DROP ROLE IF EXISTS multidb_regress_remote;
RESET client_min_messages;
CREATE DATABASE multidb_regress_a;
CREATE DATABASE multidb_regress_b;
CREATE DATABASE multidb_regress_c;
-- multidb refuses privileged remote roles: the connections log in as a role that can only read.
CREATE ROLE multidb_regress_remote LOGIN PASSWORD :'password';

\c multidb_regress_a
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO multidb_regress_remote;
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2));
INSERT INTO items VALUES (1, 'apple', 1.20), (2, 'pear', 0.80), (3, 'plum', 2.05);
\c multidb_regress_b
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO multidb_regress_remote;
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2));
INSERT INTO items VALUES (1, 'apple', 1.25), (2, 'pear', 0.80);
\c multidb_regress_c
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO multidb_regress_remote;
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2));
\c contrib_regression
-- The role running the tests may be called multidb, and "$user" would then put test objects into
-- the extension's schema.
ALTER DATABASE contrib_regression SET search_path = public;
SET search_path = public;

-- Runs a statement and says how it ended: ok, or the SQLSTATE and message of its error.
CREATE FUNCTION sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The same with the error's DETAIL and HINT, one per line; OIDs and ports (which vary) written as n.
CREATE FUNCTION error_of(statement text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  state text; message text; detail text; hint text;
BEGIN
  EXECUTE statement;
  RETURN NEXT 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT;
  RETURN NEXT state || ': ' || regexp_replace(message, '(OID|port) \d+', '\1 n', 'g');
  IF detail <> '' THEN RETURN NEXT 'DETAIL: ' || regexp_replace(detail, '(OID|port) \d+', '\1 n', 'g'); END IF;
  IF hint <> '' THEN RETURN NEXT 'HINT: ' || regexp_replace(hint, '(OID|port) \d+', '\1 n', 'g'); END IF;
END $$;

SELECT multidb.add_connection('alpha', format('host=127.0.0.1 port=%s dbname=multidb_regress_a user=%s password=%s',
                                              :'pgport', 'multidb_regress_remote', :'password'), 'first test database');
SELECT multidb.add_connection('beta', format('postgresql://%s:%s@127.0.0.1:%s/multidb_regress_b',
                                             'multidb_regress_remote', :'password', :'pgport'));
SELECT multidb.add_connection('gamma', format('host=127.0.0.1 port=%s dbname=multidb_regress_c user=%s password=%s',
                                              :'pgport', 'multidb_regress_remote', :'password'), 'empty items');
SELECT name, dbname, description, wrapper, usable FROM multidb.connections ORDER BY name;
