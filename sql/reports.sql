-- Saved reports, run by hand (pg_cron runs them in the TAP tests).
SELECT multidb.save_report_sql('item_counts', 'SELECT count(*) AS items, sum(price) AS total FROM items', ARRAY['alpha', 'beta']);
SELECT multidb.run_report('item_counts') > 0 AS ran;
SELECT report, status, source_db, row_data FROM multidb.report_runs ORDER BY id;
-- the data changes, the next run shows it, and report_diff says what changed
\c multidb_regress_b
INSERT INTO items VALUES (3, 'plum', 2.10);
\c contrib_regression
SET search_path = public;
SELECT multidb.run_report('item_counts') > 0 AS ran;
SELECT change, source_db, row_data FROM multidb.report_diff('item_counts') ORDER BY change;
\c multidb_regress_b
DELETE FROM items WHERE id = 3;
\c contrib_regression
SET search_path = public;
-- a run that fails is recorded as failed, with a WARNING, not lost
SELECT multidb.save_report_sql('broken', 'SELECT * FROM no_such_table', ARRAY['alpha']);
SELECT multidb.run_report('broken') > 0 AS ran;
SELECT status, error FROM multidb.report_runs WHERE report = 'broken';
-- mistakes
SELECT sqlstate_of($$SELECT multidb.save_report_sql('bad', 'DELETE FROM items', ARRAY['alpha'])$$);
SELECT sqlstate_of($$SELECT multidb.run_report('nothing')$$);
SELECT sqlstate_of($$SELECT * FROM multidb.report_diff('broken')$$);
SELECT sqlstate_of($$SELECT multidb.schedule_report('item_counts', '0 6 * * *')$$);
SELECT multidb.schedule_report('item_counts', '0 6 * * *');
DELETE FROM multidb.reports;
