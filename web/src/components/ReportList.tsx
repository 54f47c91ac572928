// The caller's reports as a list of buttons: the name, the question it answers, its schedule, its last run's status.
import type * as T from '../api/types';

export function ReportList({ reports, selected, onSelect }: {
  reports: T.Report[]; selected: string | null; onSelect: (name: string) => void;
}) {
  if (reports.length === 0) {
    return (
      <p className="muted" data-testid="report-empty">
        No reports yet. Save an answer of the Chat tab as a report (Save as report), or POST /api/reports.
      </p>
    );
  }
  return (
    <ul className="item-list" aria-label="reports">
      {reports.map((r) => (
        <li key={r.name}>
          <button type="button" className="item" data-testid="report-item" data-name={r.name}
            aria-current={r.name === selected ? 'true' : undefined} onClick={() => onSelect(r.name)}>
            <span className="item-title">{r.name}</span>
            {r.question ? <span className="item-sub">{r.question}</span> : null}
            <span className="item-meta">
              {r.connections.join(', ')}
              {r.schedule ? <> · runs <code>{r.schedule}</code></> : null}
              {r.last_run ? <> · last run <span className={`status status-${r.last_run.status}`}>{r.last_run.status}</span></> : ' · never run'}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
