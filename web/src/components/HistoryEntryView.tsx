// One ask of the History opened: its question, status and error, the timings (the model's, the databases',
// in all), the model's tokens when recorded, the rows and time per database, and its plan: the SQL each
// database ran and the combine step.
import type * as T from '../api/types';
import { PlanView } from './PlanView';

function ms(value: unknown): string {
  return typeof value === 'number' ? `${Math.round(value).toLocaleString('en-US')} ms` : '—';
}

export function HistoryEntryView({ entry, onClose }: { entry: T.HistoryEntry; onClose: () => void }) {
  const counts = (entry.row_counts ?? {}) as Record<string, unknown>;
  const timings = (entry.timings_ms ?? {}) as Record<string, unknown>;
  const databases = [...new Set([...Object.keys(counts), ...Object.keys(timings)])];
  return (
    <article className="history-entry" data-testid="history-entry" data-id={entry.id} aria-labelledby="history-title">
      <header className="detail-head">
        <h2 id="history-title">{entry.question}</h2>
        <button type="button" onClick={onClose} aria-label="close this ask">Close</button>
      </header>
      <p>
        <span className={`status status-${entry.status}`}>{entry.status}</span>
        {' · '}{new Date(entry.created_at).toLocaleString()}
        {entry.model ? ` · model ${entry.model}` : ''}
        {entry.cached ? ` · served by the ${entry.cached} cache` : ''}
      </p>
      {entry.error ? <div className="error" role="alert" data-testid="history-error">{entry.error}</div> : null}
      <dl className="timings">
        <dt>model</dt><dd>{ms(entry.llm_ms)}</dd>
        <dt>databases</dt><dd>{ms(entry.exec_ms)}</dd>
        <dt>in all</dt><dd>{ms(entry.total_ms)}</dd>
        {entry.prompt_tokens != null || entry.completion_tokens != null ? (
          <><dt>tokens</dt><dd data-testid="history-tokens">{entry.prompt_tokens ?? '—'} in, {entry.completion_tokens ?? '—'} out</dd></>
        ) : null}
      </dl>
      {databases.length > 0 && (
        <div className="table-box" role="region" aria-label="rows and time per database" tabIndex={0}>
          <table>
            <thead><tr><th scope="col">database</th><th scope="col">rows</th><th scope="col">time</th></tr></thead>
            <tbody>
              {databases.map((d) => (
                <tr key={d}><td>{d}</td><td className="num">{counts[d] === undefined ? '—' : String(counts[d])}</td><td className="num">{ms(timings[d])}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Plan</h3>
      <PlanView plan={entry.plan ?? null} testid="history-plan" title={`the plan of ask ${entry.id}`} />
    </article>
  );
}
