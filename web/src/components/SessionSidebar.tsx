// The sessions sidebar: a search by name, the button that starts a new session, and one entry per session of
// the caller's (the open one marked aria-current).
import { useState } from 'react';
import type { Session } from '../api/types';

export function SessionSidebar({ sessions, openId, onOpen, onNew }: {
  sessions: Session[];
  openId: string | null;
  onOpen: (id: string) => void;
  onNew: () => void;
}) {
  const [search, setSearch] = useState('');
  const needle = search.trim().toLowerCase();
  const shown = needle ? sessions.filter((s) => s.name.toLowerCase().includes(needle)) : sessions;
  return (
    <nav className="sessions" aria-label="Sessions">
      <div className="sessions-top">
        <input data-testid="session-search" type="search" placeholder="Search sessions" aria-label="Search sessions by name"
          value={search} onChange={(e) => setSearch(e.target.value)} />
        <button data-testid="session-new" type="button" className="primary" onClick={onNew}>New session</button>
      </div>
      <ul className="session-list">
        {shown.map((s) => (
          <li key={s.id}>
            <button type="button" data-testid="session-item" data-session-id={s.id} data-name={s.name}
              aria-current={s.id === openId ? 'true' : undefined} onClick={() => onOpen(s.id)}>
              <span className="session-name">{s.name}</span>
              <span className="session-dbs">{s.connection_ids.join(', ')}</span>
            </button>
          </li>
        ))}
        {shown.length === 0 && <li className="muted">{sessions.length ? 'No session matches.' : 'No sessions yet.'}</li>}
      </ul>
    </nav>
  );
}
