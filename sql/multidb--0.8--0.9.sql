-- multidb 0.8 -> 0.9: answers as typed relations, so that BI tools can use them.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.9'" to load this file. \quit

-- ---------------------------------------------------------------------------------------------------------------
-- Saved reports behind a view: a policy per report owner
-- ---------------------------------------------------------------------------------------------------------------
-- reports and report_runs show a role its own rows (own_reports, own_report_runs: owner = current_user). A view
-- reads its tables as its owner, and Postgres picks the policies that apply by that role, but current_user inside
-- a policy is still the reader: so a BI role reading a view that a report's owner made over report_runs and
-- granted to it got no rows. Each report owner therefore gets one more permissive policy per table, for SELECT,
-- TO that owner, on the owner's name written out: it applies when the access is checked as the owner (the
-- owner's views), and grants nothing to anyone else (the BI role reading the tables itself still sees only its
-- own reports). The policies are made when a role's first report is saved (a trigger, so that save_report,
-- save_report_sql, save_report_from_history and pg_restore's reload of the table all make them), and below for
-- the owners already there. pg_dump does not keep policies on an extension's tables; the trigger makes them again.
-- A role with a policy is dropped after DROP OWNED BY (as for its user mappings).

-- Makes the two policies of report owner "owner" if it owns a report, is a role, and has none yet; returns
-- whether it made them. Anyone may call it: it only lets an owner's own views read that owner's own rows. The
-- first time takes ACCESS EXCLUSIVE on both tables for the moment CREATE POLICY needs.
CREATE FUNCTION _report_owner_policies(owner text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    role_oid oid := pg_catalog.to_regrole(pg_catalog.quote_ident(owner));
    policy   text := 'multidb views of ' || owner;
BEGIN
    IF role_oid IS NULL OR NOT EXISTS (SELECT 1 FROM multidb.reports r WHERE r.owner = _report_owner_policies.owner) THEN
        RETURN false;
    END IF;
    IF pg_catalog.octet_length(policy) > 63 THEN     -- a policy's name is cut at 63 bytes: the OID keeps it unique
        policy := 'multidb views of role ' || role_oid;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                WHERE p.polrelid = 'multidb.report_runs'::pg_catalog.regclass AND p.polname = policy)
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                    WHERE p.polrelid = 'multidb.reports'::pg_catalog.regclass AND p.polname = policy) THEN
        RETURN false;
    END IF;
    BEGIN
        EXECUTE pg_catalog.format('CREATE POLICY %I ON multidb.reports FOR SELECT TO %I USING (owner = %L)',
                                  policy, owner, owner);
    EXCEPTION WHEN duplicate_object THEN     -- made meanwhile by a concurrent first save of the same owner
        NULL;
    END;
    BEGIN
        EXECUTE pg_catalog.format(
            'CREATE POLICY %I ON multidb.report_runs FOR SELECT TO %I '
            'USING (EXISTS (SELECT 1 FROM multidb.reports r WHERE r.name = report AND r.owner = %L))',
            policy, owner, owner);
    EXCEPTION WHEN duplicate_object THEN
        NULL;
    END;
    RETURN true;
END $$;
COMMENT ON FUNCTION _report_owner_policies(text) IS
    'makes the SELECT policies on reports and report_runs that let views owned by a report owner read its rows';

CREATE FUNCTION _reports_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM multidb._report_owner_policies(n.owner) FROM (SELECT DISTINCT i.owner FROM inserted i) n;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION _reports_inserted() FROM PUBLIC;
CREATE TRIGGER report_owner_policies AFTER INSERT ON reports
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION _reports_inserted();

SELECT multidb._report_owner_policies(o.owner) FROM (SELECT DISTINCT r.owner FROM multidb.reports r) o;

-- ---------------------------------------------------------------------------------------------------------------
-- pg_dump keeps the id sequences of the tables it keeps
-- ---------------------------------------------------------------------------------------------------------------
-- reports, report_runs, query_history and chat_messages are dumped with their rows (pg_extension_config_dump),
-- but their sequences were not: after pg_restore they started again at 1, and the next run_report (or ask) failed
-- on a duplicate key of a restored row. Marked too, pg_dump restores each sequence's position.
SELECT pg_catalog.pg_extension_config_dump('report_run_ids', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.report_runs', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.query_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.chat_messages', 'id'), '');
