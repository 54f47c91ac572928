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
