// The rows of one run of a report: those the run answer carried, else GET /api/reports/{name}/runs?run_id=.
import * as api from '../api/client';
import type * as T from '../api/types';
import { useLoad } from '../hooks/useLoad';
import { ErrorNotice } from './ErrorNotice';
import { RowsTable } from './RowsTable';

export function ReportRunView({ report, run }: { report: string; run: T.Run }) {
  const [rows] = useLoad(
    () => (run.rows ? Promise.resolve(run.rows) : api.reportRunRows(report, run.run_id)),
    [report, run.run_id],
  );
  return (
    <section className="run-view" aria-label={`rows of run ${run.run_id}`} data-run-id={run.run_id}>
      <h4>Rows of run {run.run_id} {run.status === 'failed' ? '(failed)' : ''}</h4>
      {run.error ? <ErrorNotice error={new Error(run.error)} testid="report-error" /> : null}
      {rows.state === 'loading' && <p className="muted" aria-busy="true">Loading rows…</p>}
      {rows.state === 'error' && <ErrorNotice error={rows.error} testid="report-error" />}
      {rows.state === 'ready' && (
        <RowsTable rows={rows.data} label={`rows of run ${run.run_id}`} testid="report-run-rows" rowTestid="report-row" />
      )}
    </section>
  );
}
