// One report opened: what it runs (its frozen plan), Run now (POST /api/reports/{name}/runs), its runs with the
// rows of the one opened, its schedule, and the rows added and removed between its last two runs.
import { useState } from 'react';
import * as api from '../api/client';
import type * as T from '../api/types';
import { useLoad } from '../hooks/useLoad';
import { ErrorNotice } from './ErrorNotice';
import { PlanView } from './PlanView';
import { ReportSpecPlan } from './ReportSpecPlan';
import { ReportDiffView } from './ReportDiffView';
import { ReportRuns } from './ReportRuns';
import { ReportRunView } from './ReportRunView';
import { ReportSchedule } from './ReportSchedule';

export function ReportDetail({ report, onChanged }: { report: T.Report; onChanged: () => void }) {
  const [generation, setGeneration] = useState(0);
  const [runs] = useLoad(() => api.reportRuns(report.name), [report.name, generation]);
  const [opened, setOpened] = useState<T.Run | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function runNow() {
    setRunning(true);
    setError(null);
    try {
      const run = await api.runReportNow(report.name);
      setOpened(run);
      setGeneration((g) => g + 1);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  }

  return (
    <article className="report" data-testid="report-detail" data-name={report.name} aria-labelledby="report-title">
      <header className="detail-head">
        <h2 id="report-title">{report.name}</h2>
        <button type="button" className="primary" data-testid="report-run" onClick={runNow} disabled={running}>
          {running ? 'Running…' : 'Run now'}
        </button>
      </header>
      {report.question ? <p className="question">{report.question}</p> : null}
      <p className="muted">On {report.connections.join(', ')} · saved {new Date(report.created_at).toLocaleString()}</p>
      {error !== null && <ErrorNotice error={error} testid="report-error" />}
      <details className="report-plan">
        <summary>What it runs</summary>
        {report.spec ? (
          <ReportSpecPlan name={report.name} spec={report.spec} />
        ) : (
          <PlanView plan={report.plan} testid="report-plan" title={`the plan of ${report.name}`} />
        )}
      </details>

      <h3>Runs</h3>
      {runs.state === 'loading' && <p className="muted" aria-busy="true">Loading runs…</p>}
      {runs.state === 'error' && <ErrorNotice error={runs.error} testid="report-error" />}
      {runs.state === 'ready' && (
        <ReportRuns runs={runs.data} opened={opened?.run_id ?? null} onOpen={setOpened} />
      )}
      {opened && <ReportRunView key={opened.run_id} report={report.name} run={opened} />}

      <h3>Schedule</h3>
      <ReportSchedule report={report} onChanged={onChanged} />

      <h3>Changes between the last two runs</h3>
      {runs.state === 'ready' && <ReportDiffView report={report.name} runs={runs.data} />}
    </article>
  );
}
