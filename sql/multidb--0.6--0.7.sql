-- multidb 0.6 -> 0.7: scheduled reports never fail in silence. schedule_report checks that pg_cron can reach
-- this database to run the job, and a job pg_cron could not run (its connection refused) still leaves a
-- failed run in report_runs, through a trigger on pg_cron's cron.job_run_details.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.7'" to load this file. \quit

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
