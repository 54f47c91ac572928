-- multidb 0.3: the jobs people bring — connection groups first.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.3'" to load this file. \quit

-- A group names a list of connections. Wherever multidb takes a list of connections (fanout, fanout_rows,
-- sessions, ask), '@name' stands for the group's connections, in order: the '@' keeps a group apart from
-- a connection, whose name may not start with '@'. Using a group needs what using each member needs.
CREATE TABLE connection_groups (
    name        text PRIMARY KEY CHECK (name <> '' AND left(name, 1) <> '@'),
    connections text[] NOT NULL CHECK (cardinality(connections) > 0),
    owner       text NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE connection_groups IS 'named lists of connections, written @name wherever connections are listed';
SELECT pg_catalog.pg_extension_config_dump('connection_groups', '');
ALTER TABLE connection_groups ENABLE ROW LEVEL SECURITY;
-- Everyone may read and use a group (its members still need USAGE); only its owner changes it.
CREATE POLICY groups_readable ON connection_groups FOR SELECT USING (true);
CREATE POLICY groups_owned ON connection_groups FOR ALL USING (owner = current_user) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON connection_groups TO PUBLIC;

CREATE FUNCTION create_group(name text, connections text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF name IS NULL OR connections IS NULL OR cardinality(connections) = 0 THEN
        RAISE EXCEPTION 'a group needs a name and at least one connection' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    name := ltrim(name, '@');
    IF EXISTS (SELECT 1 FROM unnest(connections) c WHERE left(c, 1) = '@') THEN
        RAISE EXCEPTION 'group "%" would contain a group', name USING ERRCODE = 'invalid_parameter_value',
            HINT = 'List the connections themselves; groups do not nest.';
    END IF;
    PERFORM multidb.check_connections(connections);
    INSERT INTO multidb.connection_groups (name, connections) VALUES (name, connections);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'group "%" already exists', name USING ERRCODE = 'duplicate_object',
        HINT = 'multidb.drop_group() first, or pick another name.';
END $$;

CREATE FUNCTION drop_group(name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM multidb.connection_groups g WHERE g.name = ltrim(drop_group.name, '@');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "%" does not exist, or is not yours', ltrim(name, '@') USING ERRCODE = 'undefined_object';
    END IF;
END $$;

-- Data comparison: the same read-only query on two connections, in parallel; rows only in a, only in b,
-- and (with a key) rows whose other columns differ. Both sides arrive sorted the same way and are merged,
-- so neither is held in memory whole (the fetched rows spill to disk past work_mem).
CREATE FUNCTION compare(sql text, a text, b text, key text[] DEFAULT NULL)
    RETURNS TABLE (status text, key jsonb, a_row jsonb, b_row jsonb)
    AS 'MODULE_PATHNAME', 'multidb_compare' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION compare(text, text, text, text[]) IS
    'rows only_in_a, only_in_b, and (with key columns) different between two connections; nothing for rows that agree';

-- Schema comparison: tables, columns (type, nullability, default), indexes, constraints, views and functions
-- present on one side only or defined differently. Objects of extensions are left out (compare extension
-- versions instead). Read through fanout_rows, so both sides are read in parallel and guarded.
CREATE FUNCTION schema_diff(a text, b text)
    RETURNS TABLE (object_kind text, object_name text, difference text, a_definition text, b_definition text)
LANGUAGE plpgsql AS $fn$
DECLARE
    objects_sql constant text := $q$
      WITH user_namespaces AS (
        SELECT oid, nspname FROM pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
           AND nspname NOT LIKE 'pg\_temp%'),
      extension_members AS (SELECT objid FROM pg_depend WHERE deptype = 'e')
      SELECT 'table' AS kind, n.nspname || '.' || c.relname AS name,
             CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
                            WHEN 'm' THEN 'materialized view' END AS definition
        FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'f', 'm') AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname,
             format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN user_namespaces n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'm', 'v')
         AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'index', n.nspname || '.' || ci.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN user_namespaces n ON n.oid = ci.relnamespace
       WHERE i.indrelid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'constraint', n.nspname || '.' || c.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'view', n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.relkind = 'v' AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
             pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
       WHERE p.prokind IN ('f', 'p') AND p.oid NOT IN (SELECT objid FROM extension_members)
    $q$;
BEGIN
    IF a IS NULL OR b IS NULL OR a = b THEN
        RAISE EXCEPTION 'schema_diff needs two different connections' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH objects AS (
        SELECT * FROM multidb.fanout_rows(objects_sql, ARRAY[a, b])
                 AS t(source_db text, kind text, name text, definition text)),
    side_a AS (SELECT kind, name, definition FROM objects WHERE source_db = a),
    side_b AS (SELECT kind, name, definition FROM objects WHERE source_db = b)
    SELECT kind, name,
           CASE WHEN side_b.definition IS NULL THEN 'only in ' || a
                WHEN side_a.definition IS NULL THEN 'only in ' || b
                ELSE 'different' END,
           side_a.definition, side_b.definition
      FROM side_a FULL JOIN side_b USING (kind, name)
     WHERE side_a.definition IS DISTINCT FROM side_b.definition
     ORDER BY CASE kind WHEN 'table' THEN 1 WHEN 'column' THEN 2 WHEN 'constraint' THEN 3 WHEN 'index' THEN 4
                        WHEN 'view' THEN 5 ELSE 6 END, name;
END $fn$;
COMMENT ON FUNCTION schema_diff(text, text) IS
    'tables, columns, indexes, constraints, views and functions present on one side only or defined differently';
