-- multidb 0.6 -> 0.7: a new user's first hour.
-- Managing connections and groups: add_connection tries the connection before keeping it; drop_connection removes
-- one; alter_group changes a group; compare says when the two sides' columns differ and can compare the columns
-- they share.
-- Scheduled reports never fail in silence: schedule_report checks that pg_cron can reach this database to run the
-- job, and a job pg_cron could not run (its connection refused) still leaves a failed run in report_runs, through
-- a trigger on pg_cron's cron.job_run_details.
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

-- NULL when pg_cron could connect to run a job of the caller (libpq to cron.host on this server's port, as the
-- caller, to this database, without a password), else libpq's reason.
CREATE FUNCTION _cron_connection_problem() RETURNS text
    AS 'MODULE_PATHNAME', 'multidb_cron_connection_problem' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION _cron_connection_problem() IS
    'whether pg_cron could connect to run a job of the caller: NULL, or libpq''s reason (used by schedule_report)';

-- Runs in pg_cron's launcher when it marks a run failed: a run of a "multidb report <name>" job that never ran
-- run_report (pg_cron could not connect; run_report records every failure of its own) becomes a failed run
-- of the report, with pg_cron's reason. It never fails pg_cron's own bookkeeping: an error here is a WARNING
-- in the server log.
CREATE FUNCTION _record_cron_failure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    j           record;
    report_name text;
    reason      text;
BEGIN
    BEGIN
        SELECT jobname, username, database, nodename, nodeport INTO j FROM cron.job WHERE jobid = NEW.jobid;
        IF NOT FOUND OR j.jobname IS NULL OR left(j.jobname, 15) <> 'multidb report ' THEN
            RETURN NEW;
        END IF;
        report_name := substr(j.jobname, 16);
        -- run_report ran and recorded this run itself.
        IF NEW.start_time IS NOT NULL AND EXISTS (SELECT 1 FROM multidb.report_runs rr
                                                   WHERE rr.report = report_name AND rr.run_at >= NEW.start_time) THEN
            RETURN NEW;
        END IF;
        reason := 'pg_cron could not run the job: ' || coalesce(NEW.return_message, 'no reason given');
        IF NEW.return_message ILIKE '%connect%' THEN
            reason := reason || format(' (pg_cron connects over libpq to %s port %s, database %s, as %s, without a '
                                       'password; set cron.use_background_workers = on and restart, or let that '
                                       'connection in with a pg_hba.conf line or a .pgpass entry of the server''s OS user)',
                                       j.nodename, j.nodeport, j.database, j.username);
        END IF;
        -- Only a report of the job's owner (a report dropped since has nowhere to record the run).
        INSERT INTO multidb.report_runs (report, run_id, status, error)
        SELECT r.name, nextval('multidb.report_run_ids'), 'failed', reason
          FROM multidb.reports r WHERE r.name = report_name AND r.owner = j.username;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'multidb could not record the failed pg_cron run % in report_runs: %', NEW.runid, SQLERRM;
    END;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION _record_cron_failure() FROM PUBLIC;

-- Puts the trigger on cron.job_run_details when pg_cron is installed here and it is not there yet (pg_cron may
-- come after multidb). The trigger goes with multidb: DROP EXTENSION multidb drops it (an automatic
-- dependency on the extension), DROP EXTENSION pg_cron too (with its table). Idempotent; schedule_report calls it.
CREATE FUNCTION _watch_cron() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    trigger_oid oid;
BEGIN
    -- Only pg_cron's own table: a schema "cron" that someone else made could otherwise have this superuser-owned
    -- function put a SECURITY DEFINER trigger on a table whose rows they write.
    IF to_regclass('cron.job_run_details') IS NULL OR NOT EXISTS (
           SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = to_regclass('cron.job_run_details')
              AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'pg_cron') THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('cron.job_run_details')
                                          AND tgname = 'multidb_report_failures') THEN
        RETURN;
    END IF;
    CREATE TRIGGER multidb_report_failures AFTER UPDATE ON cron.job_run_details FOR EACH ROW
        WHEN (NEW.status = 'failed' AND OLD.status IS DISTINCT FROM 'failed')
        EXECUTE FUNCTION multidb._record_cron_failure();
    SELECT oid INTO trigger_oid FROM pg_trigger
     WHERE tgrelid = to_regclass('cron.job_run_details') AND tgname = 'multidb_report_failures';
    INSERT INTO pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
    SELECT 'pg_trigger'::regclass, trigger_oid, 0, 'pg_extension'::regclass, e.oid, 0, 'a'
      FROM pg_extension e WHERE e.extname = 'multidb';
END $$;
-- Left executable by everyone: it does one fixed thing, and schedule_report, run by any role, calls it.

DO $$ BEGIN PERFORM multidb._watch_cron(); END $$;

CREATE OR REPLACE FUNCTION schedule_report(name text, schedule text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    job     bigint;
    problem text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM multidb.reports r WHERE r.name = schedule_report.name) THEN
        RAISE EXCEPTION 'report "%" does not exist', name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM multidb.reports lists yours.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'feature_not_supported',
            HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, set cron.database_name '
                   'to this database and cron.use_background_workers = on, restart, then CREATE EXTENSION pg_cron.';
    END IF;
    -- With background workers pg_cron needs no connection; without, it connects as the caller does here.
    IF coalesce(current_setting('cron.use_background_workers', true), 'off') <> 'on' THEN
        problem := multidb._cron_connection_problem();
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'pg_cron could not connect to run report "%": %', name, problem
                USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                DETAIL = format('With cron.use_background_workers off, pg_cron runs each job over libpq: host %s, '
                                'port %s, database %s, user %s, without a password.',
                                coalesce(nullif(current_setting('cron.host', true), ''), 'localhost'),
                                current_setting('port'), current_database(), current_user),
                HINT = format('Set cron.use_background_workers = on in postgresql.conf and restart the server (no '
                              'connection needed), or let that connection in: a pg_hba.conf line such as '
                              '"host %s %s 127.0.0.1/32 trust" (and ::1/128 for localhost) then SELECT '
                              'pg_reload_conf(), or a .pgpass entry of the server''s OS user.',
                              current_database(), current_user);
        END IF;
    END IF;
    PERFORM multidb._watch_cron();
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
      USING 'multidb report ' || name, schedule, format('SELECT multidb.run_report(%L)', name);
    RETURN job;
END $$;
