-- multidb 0.9 -> 1.0: one question over many databases of one schema (issue 21). A plan may name a set of
-- databases (a group, a list, or every attached one) and multidb expands it to one statement per member; the plan
-- JSON keeps the sets beside the expansion ("sets"), and the combine step reads each set as one relation. A plan
-- frozen for a report or a view keeps its sets too, so that its combine step finds the set relations when it runs.
\echo Use "ALTER EXTENSION multidb UPDATE TO '1.0'" to load this file. \quit

-- ================================================================================== plans with sets

CREATE FUNCTION _plan_json(question text, session uuid, connections text[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'multidb__plan_json' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION _plan_json(text, uuid, text[]) IS
    'internal: the dry run of ask as the whole plan document: {"queries" (one per database), "combine", '
    '"explanation", "sets"}; planned and guarded as plan() plans them, nothing run';

-- As in 0.9 (the SQL per database and the combine step), and the plan's sets when it has any.
CREATE OR REPLACE FUNCTION _frozen_plan(question text, session uuid, connections text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    planned jsonb := multidb._plan_json(question, session, connections);
BEGIN
    RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
               'queries', planned -> 'queries',
               'combine', planned -> 'combine',
               'sets', planned -> 'sets'));
END $$;
COMMENT ON FUNCTION _frozen_plan(text, uuid, text[]) IS
    'a question planned once and frozen: {"queries": [{database, sql}], "combine", "sets"} (save_report, create_view)';
