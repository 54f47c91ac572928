// The Reports tab: the caller's saved reports (GET /api/reports) beside the one opened — its plan, runs,
// schedule and the diff of its last two runs.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import { useLoad } from '../hooks/useLoad';
import { ErrorNotice } from './ErrorNotice';
import { ReportDetail } from './ReportDetail';
import { ReportList } from './ReportList';

export function ReportsTab() {
  const [reports, reload] = useLoad(api.listReports, []);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    if (reports.state === 'ready' && selected === null && reports.data[0]) setSelected(reports.data[0].name);
  }, [reports, selected]);

  const report = reports.state === 'ready' ? reports.data.find((r) => r.name === selected) ?? null : null;
  return (
    <section className="tab reports split" aria-label="Reports">
      <div className="split-list">
        <h2>Your reports</h2>
        {reports.state === 'loading' && <p className="muted" aria-busy="true">Loading reports…</p>}
        {reports.state === 'error' && <ErrorNotice error={reports.error} testid="report-error" />}
        {reports.state === 'ready' && <ReportList reports={reports.data} selected={selected} onSelect={setSelected} />}
      </div>
      <div className="split-detail">
        {report ? <ReportDetail key={report.name} report={report} onChanged={reload} /> :
          reports.state === 'ready' && reports.data.length > 0 ? <p className="muted">Choose a report.</p> : null}
      </div>
    </section>
  );
}
