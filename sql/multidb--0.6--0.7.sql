-- multidb 0.6 -> 0.7: managing connections and groups. add_connection tries the connection before keeping it;
-- drop_connection removes one; alter_group changes a group; compare says when the two sides' columns differ and
-- can compare the columns they share.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.7'" to load this file. \quit

-- A new argument, validate: the function is made again (calls with two or three arguments work as before).
DROP FUNCTION add_connection(text, text, text);
CREATE FUNCTION add_connection(name text, conninfo text, description text DEFAULT NULL, validate boolean DEFAULT true)
    RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_add_connection' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION add_connection(text, text, text, boolean) IS
    'create a multidb server and the caller''s user mapping from one libpq conninfo string; with validate (the '
    'default), connect to it first as a fan-out does and keep nothing if that fails';

-- Removes a multidb connection: its user mappings (every role's) and its server, and closes this backend's kept
-- connections to it. Groups, the caller's sessions and the caller's reports that name it are refused, listed,
-- unless cascade, which takes it out of them (a group or report left with no connection is dropped, said in a
-- NOTICE). A group of another owner that names it is refused even with cascade: it is not the caller's to change.
CREATE FUNCTION drop_connection(name text, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    server   pg_catalog.pg_foreign_server%ROWTYPE;
    wrapper  text;
    users    text;
    groups   text;
    foreign_groups text;
    sessions text;
    reports  text;
    emptied  text;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'drop_connection needs a connection name' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT s.* INTO server FROM pg_catalog.pg_foreign_server s WHERE s.srvname = drop_connection.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'connection "%" does not exist', name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM multidb.connections lists the connections there are.';
    END IF;
    SELECT w.fdwname INTO wrapper FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.oid = server.srvfdw;
    IF wrapper <> 'multidb' THEN
        RAISE EXCEPTION 'server "%" belongs to foreign-data wrapper "%", not to multidb', name, wrapper
            USING ERRCODE = 'wrong_object_type',
            HINT = 'multidb drops only the connections it made; DROP SERVER drops another wrapper''s server.';
    END IF;
    IF NOT pg_catalog.pg_has_role(current_user, server.srvowner, 'USAGE') THEN
        RAISE EXCEPTION 'connection "%" is not yours to drop', name USING ERRCODE = 'insufficient_privilege',
            HINT = format('Its owner, %s, can drop it.', pg_catalog.pg_get_userbyid(server.srvowner));
    END IF;

    SELECT string_agg(format('"@%s" (owner %s)', g.name, g.owner), ', ' ORDER BY g.name) INTO foreign_groups
      FROM multidb.connection_groups g WHERE drop_connection.name = ANY (g.connections) AND g.owner <> current_user;
    SELECT string_agg(format('"@%s"', g.name), ', ' ORDER BY g.name) INTO groups
      FROM multidb.connection_groups g WHERE drop_connection.name = ANY (g.connections) AND g.owner = current_user;
    SELECT string_agg(format('"%s"', s.name), ', ' ORDER BY s.name) INTO sessions
      FROM multidb.chat_sessions s WHERE drop_connection.name = ANY (s.connections);
    SELECT string_agg(format('"%s"', r.name), ', ' ORDER BY r.name) INTO reports
      FROM multidb.reports r WHERE drop_connection.name = ANY (r.connections);
    IF foreign_groups IS NOT NULL THEN
        RAISE EXCEPTION 'connection "%" is in groups of other roles: %', name, foreign_groups
            USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Their owners can take it out with multidb.alter_group(<group>, remove => ARRAY[' ||
                   quote_literal(name) || ']).';
    END IF;
    IF NOT cascade AND coalesce(groups, sessions, reports) IS NOT NULL THEN
        RAISE EXCEPTION 'connection "%" is still named elsewhere', name USING ERRCODE = 'dependent_objects_still_exist',
            DETAIL = concat_ws('; ', 'groups: ' || groups, 'sessions: ' || sessions, 'reports: ' || reports) || '.',
            HINT = format('multidb.drop_connection(%L, cascade => true) takes it out of them too.', name);
    END IF;

    IF cascade THEN
        UPDATE multidb.connection_groups g SET connections = array_remove(g.connections, drop_connection.name)
         WHERE drop_connection.name = ANY (g.connections) AND cardinality(g.connections) > 1;
        WITH gone AS (DELETE FROM multidb.connection_groups g
                       WHERE g.connections = ARRAY[drop_connection.name] RETURNING g.name)
        SELECT string_agg(format('"@%s"', gone.name), ', ') INTO emptied FROM gone;
        IF emptied IS NOT NULL THEN
            RAISE NOTICE 'dropped group % too: "%" was its only connection', emptied, name;
        END IF;
        UPDATE multidb.chat_sessions s SET connections = array_remove(s.connections, drop_connection.name),
               updated_at = now()
         WHERE drop_connection.name = ANY (s.connections);
        UPDATE multidb.reports r SET connections = array_remove(r.connections, drop_connection.name)
         WHERE drop_connection.name = ANY (r.connections) AND cardinality(r.connections) > 1;
        emptied := NULL;
        WITH gone AS (DELETE FROM multidb.reports r WHERE r.connections = ARRAY[drop_connection.name] RETURNING r.name)
        SELECT string_agg(format('"%s"', gone.name), ', ') INTO emptied FROM gone;
        IF emptied IS NOT NULL THEN
            RAISE NOTICE 'dropped report % too: "%" was its only connection', emptied, name;
        END IF;
    END IF;

    PERFORM multidb.disconnect(name);
    FOR users IN SELECT CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(m.umuser)) END
                   FROM pg_catalog.pg_user_mapping m WHERE m.umserver = server.oid LOOP
        EXECUTE format('DROP USER MAPPING FOR %s SERVER %I', users, name);
    END LOOP;
    EXECUTE format('DROP SERVER %I', name);
END $$;
COMMENT ON FUNCTION drop_connection(text, boolean) IS
    'remove a multidb connection (its server and user mappings); with cascade, from groups, sessions and reports too';

-- Adds and removes members of a group the caller owns, validated as create_group validates them.
CREATE FUNCTION alter_group(name text, add text[] DEFAULT NULL, remove text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    group_name text := ltrim(name, '@');
    members    text[];
    owned_by   text;
    member     text;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'alter_group needs a group name' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF add IS NULL AND remove IS NULL THEN
        RAISE EXCEPTION 'alter_group on group "@%" needs add or remove', group_name
            USING ERRCODE = 'invalid_parameter_value',
            HINT = format('multidb.alter_group(%L, add => ARRAY[''conn'']) or remove => ARRAY[''conn''].', group_name);
    END IF;
    SELECT g.connections, g.owner INTO members, owned_by FROM multidb.connection_groups g WHERE g.name = group_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "@%" does not exist', group_name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name, connections FROM multidb.connection_groups lists them; multidb.create_group() makes one.';
    END IF;
    IF owned_by <> current_user THEN
        RAISE EXCEPTION 'group "@%" is not yours to change', group_name USING ERRCODE = 'insufficient_privilege',
            HINT = format('Its owner, %s, can change it; or make a group of your own with multidb.create_group().',
                          owned_by);
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(add) c WHERE c IS NULL) OR EXISTS (SELECT 1 FROM unnest(remove) c WHERE c IS NULL) THEN
        RAISE EXCEPTION 'a connection to add to or remove from group "@%" is NULL', group_name
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH member IN ARRAY coalesce(remove, '{}') LOOP
        IF NOT member = ANY (members) THEN
            RAISE EXCEPTION 'connection "%" is not in group "@%"', member, group_name USING ERRCODE = 'undefined_object',
                HINT = format('Its connections: %s.', array_to_string(members, ', '));
        END IF;
        members := array_remove(members, member);
    END LOOP;
    IF add IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM unnest(add) c WHERE left(c, 1) = '@') THEN
            RAISE EXCEPTION 'group "@%" would contain a group', group_name USING ERRCODE = 'invalid_parameter_value',
                HINT = 'List the connections themselves; groups do not nest.';
        END IF;
        FOREACH member IN ARRAY add LOOP
            IF member = ANY (members) THEN
                RAISE EXCEPTION 'connection "%" is already in group "@%"', member, group_name
                    USING ERRCODE = 'duplicate_object';
            END IF;
            members := members || member;
        END LOOP;
        PERFORM multidb.check_connections(add);
    END IF;
    IF cardinality(members) = 0 THEN
        RAISE EXCEPTION 'group "@%" would have no connection left', group_name USING ERRCODE = 'invalid_parameter_value',
            HINT = format('multidb.drop_group(%L) removes the group.', group_name);
    END IF;
    UPDATE multidb.connection_groups g SET connections = members WHERE g.name = group_name;
END $$;
COMMENT ON FUNCTION alter_group(text, text[], text[]) IS
    'add connections to and remove connections from a group you own';

-- compare: columns => 'same' (the default) refuses two sides whose result columns differ, listing what differs;
-- 'common' compares the columns both sides have (same name, same type) and says in a NOTICE which it left out.
DROP FUNCTION compare(text, text, text, text[]);
CREATE FUNCTION compare(sql text, a text, b text, key text[] DEFAULT NULL, columns text DEFAULT 'same')
    RETURNS TABLE (status text, key jsonb, a_row jsonb, b_row jsonb)
    AS 'MODULE_PATHNAME', 'multidb_compare' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION compare(text, text, text, text[], text) IS
    'rows only_in_a, only_in_b, and (with key columns) different between two connections; nothing for rows that '
    'agree. columns => ''common'' compares only the columns both sides have';
