-- save_report_from_history (0.8): a report from an ask already made, its plan frozen as it ran (no LLM call).
INSERT INTO multidb.query_history (question, plan, status)
VALUES ('How many items?', '{"queries": [{"database": "beta", "sql": "SELECT count(*) AS n FROM items"},
                                         {"database": "alpha", "sql": "SELECT count(*) AS n FROM items"}],
                             "combine": "SELECT beta.n + alpha.n AS n FROM beta, alpha", "explanation": "x"}', 'ok')
RETURNING id AS asked \gset
SELECT multidb.save_report_from_history('from_ask', :asked);
SELECT name, question, connections, plan FROM multidb.reports WHERE name = 'from_ask';
SELECT multidb.run_report('from_ask') > 0 AS ran;
SELECT status, source_db, row_data FROM multidb.report_runs WHERE report = 'from_ask';
-- mistakes: an ask that does not exist, one without a plan, a plan the guard refuses, a name that is taken,
-- another role's ask (as if it did not exist)
SELECT multidb.save_report_from_history('nope', -1);
INSERT INTO multidb.query_history (question, status, error) VALUES ('no plan', 'error', 'the LLM failed')
RETURNING id AS unplanned \gset
SELECT left(sqlstate_of(format('SELECT multidb.save_report_from_history(%L, %s)', 'nope', :unplanned)), 5) AS no_plan;
INSERT INTO multidb.query_history (question, plan, status)
VALUES ('write', '{"queries": [{"database": "alpha", "sql": "DELETE FROM items"}]}', 'refused')
RETURNING id AS writing \gset
SELECT left(sqlstate_of(format('SELECT multidb.save_report_from_history(%L, %s)', 'nope', :writing)), 5) AS guard_refuses;
SELECT left(sqlstate_of(format('SELECT multidb.save_report_from_history(%L, %s)', 'from_ask', :asked)), 5) AS name_taken;
CREATE ROLE rfh_other;
SET ROLE rfh_other;
SELECT left(sqlstate_of(format('SELECT multidb.save_report_from_history(%L, %s)', 'theirs', :asked)), 5) AS not_theirs;
RESET ROLE;
DROP ROLE rfh_other;
SELECT count(*) AS saved FROM multidb.reports WHERE name IN ('nope', 'theirs');
