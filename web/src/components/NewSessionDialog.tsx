// Starting a session: a name, then the connections (each with whether the caller can use it, and why not) and
// the groups to attach; POST /api/chat/sessions.
import { useEffect, useState, type FormEvent } from 'react';
import * as api from '../api/client';
import type { Connection, ConnectionHealth, Group, Session } from '../api/types';
import { ConnectionHealthBadge } from './ConnectionHealthBadge';
import { ErrorNotice } from './ErrorNotice';

export function NewSessionDialog({ onCreated, onClose }: { onCreated: (s: Session) => void; onClose: () => void }) {
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [groups, setGroups] = useState<Group[]>([]);
  const [health, setHealth] = useState<Map<string, ConnectionHealth> | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    Promise.all([api.listConnections(), api.listGroups()]).then(
      ([c, g]) => { if (live) { setConnections(c); setGroups(g); } },
      (e) => live && setError(e),
    );
    // Reaching every connection takes up to the connect timeout: the list shows at once, the health when known.
    api.connectionHealth().then(
      (h) => live && setHealth(new Map(h.map((x) => [x.name, x]))),
      () => undefined, // an older gateway: `usable` from the list stands in
    );
    return () => { live = false; };
  }, []);

  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = name.trim() ? { name: name.trim(), connection_ids: picked } : { connection_ids: picked };
      onCreated(await api.createSession(body));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="dialog" role="dialog" aria-labelledby="new-session-title" data-testid="new-session-dialog">
      <form onSubmit={create}>
        <h2 id="new-session-title">New session</h2>
        <label>Name<input data-testid="new-session-name" value={name} onChange={(e) => setName(e.target.value)}
          placeholder="e.g. orders, both shops" /></label>
        <fieldset>
          <legend>Connections</legend>
          {connections === null && error === null && <p className="muted">Loading…</p>}
          {connections?.map((c) => (
            <label key={c.id} className="option" data-testid="conn-option" data-name={c.name}>
              <input type="checkbox" checked={picked.includes(c.name)} onChange={() => toggle(c.name)} />
              <span>{c.name}</span>
              <ConnectionHealthBadge connection={c} health={health?.get(c.name) ?? null} checking={health === null} />
            </label>
          ))}
        </fieldset>
        {groups.length > 0 && (
          <fieldset>
            <legend>Groups</legend>
            {groups.map((g) => (
              <label key={g.name} className="option" data-testid="group-option" data-name={g.name}>
                <input type="checkbox" checked={picked.includes('@' + g.name)} onChange={() => toggle('@' + g.name)} />
                <span>@{g.name}</span>
                <span className="muted">{g.connections.join(', ')}</span>
              </label>
            ))}
          </fieldset>
        )}
        {error !== null && <ErrorNotice error={error} />}
        <div className="buttons">
          <button data-testid="new-session-create" type="submit" className="primary" disabled={busy || picked.length === 0}>
            Create
          </button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </div>
  );
}
