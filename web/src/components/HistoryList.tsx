// The caller's asks as a list of buttons: the question, its status, the databases, how long it took and
// whether a cache served it.
import type * as T from '../api/types';

function ms(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function HistoryList({ entries, opened, onOpen }: {
  entries: T.HistoryEntry[]; opened: number | null; onOpen: (id: number) => void;
}) {
  if (entries.length === 0) return <p className="muted" data-testid="history-empty">No asks yet: ask a question on the Chat tab.</p>;
  return (
    <ul className="item-list" aria-label="asks">
      {entries.map((e) => {
        const databases = Array.isArray(e.databases_used) ? (e.databases_used as unknown[]).map(String) : [];
        const total = ms(e.total_ms);
        return (
          <li key={e.id}>
            <button type="button" className="item" data-testid="history-item" data-id={e.id} data-status={e.status}
              aria-current={e.id === opened ? 'true' : undefined} onClick={() => onOpen(e.id)}>
              <span className="item-title">{e.question}</span>
              <span className="item-meta">
                <span className={`status status-${e.status}`}>{e.status}</span>
                {databases.length > 0 ? ` · ${databases.length > 3 ? `${databases.slice(0, 3).join(', ')} and ${databases.length - 3} more` : databases.join(', ')}` : ''}
                {total ? ` · ${total}` : ''}
                {e.cached ? ` · cached (${e.cached})` : ''}
                {` · ${new Date(e.created_at).toLocaleString()}`}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
