// A report's runs, newest first: when, ok or failed (with the error), how many rows; a button opens its rows.
import type * as T from '../api/types';

export function ReportRuns({ runs, opened, onOpen }: {
  runs: T.Run[]; opened: number | null; onOpen: (run: T.Run) => void;
}) {
  if (runs.length === 0) return <p className="muted" data-testid="report-runs" data-count="0">Not run yet: press Run now.</p>;
  return (
    <ul className="run-list" data-testid="report-runs" data-count={runs.length} aria-label="runs">
      {runs.map((r) => (
        <li key={r.run_id}>
          <button type="button" className="item run" data-testid="report-run-item" data-run-id={r.run_id}
            data-status={r.status} aria-current={r.run_id === opened ? 'true' : undefined} onClick={() => onOpen(r)}>
            <span className="item-title">Run {r.run_id}</span>
            <span className={`status status-${r.status}`}>{r.status}</span>
            <span className="item-meta">{new Date(r.run_at).toLocaleString()} · {r.row_count.toLocaleString('en-US')} row{r.row_count === 1 ? '' : 's'}</span>
            {r.error ? <span className="run-error">{r.error}</span> : null}
          </button>
        </li>
      ))}
    </ul>
  );
}
