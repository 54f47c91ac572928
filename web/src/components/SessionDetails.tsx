// The open session's head: its name (rename), its attached connections and groups (detach one, attach another),
// and delete (confirmed). Each change is a PATCH or DELETE of /api/chat/sessions/{id}.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import type { Connection, Group, PatchSession, Session } from '../api/types';
import { ErrorNotice } from './ErrorNotice';

export function SessionDetails({ session, onChanged, onDeleted }: {
  session: Session;
  onChanged: (s: Session) => void;
  onDeleted: () => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(session.name);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [attach, setAttach] = useState('');
  const [choices, setChoices] = useState<{ connections: Connection[]; groups: Group[] }>({ connections: [], groups: [] });
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    Promise.all([api.listConnections(), api.listGroups()]).then(
      ([connections, groups]) => live && setChoices({ connections, groups }),
      () => undefined, // the attach list stays empty; the thread still works
    );
    return () => { live = false; };
  }, []);

  async function patch(body: PatchSession) {
    setError(null);
    try {
      onChanged(await api.patchSession(session.id, body));
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  }

  async function remove() {
    setError(null);
    try {
      await api.deleteSession(session.id);
      onDeleted();
    } catch (e) {
      setError(e);
    }
  }

  const attached = new Set(session.connection_ids);
  const attachable = [
    ...choices.connections.map((c) => c.name),
    ...choices.groups.map((g) => '@' + g.name),
  ].filter((n) => !attached.has(n));

  return (
    <header className="session-details">
      <div className="session-title">
        {renaming ? (
          <input data-testid="session-rename-input" aria-label="New name of the session" value={name} autoFocus
            onChange={(e) => setName(e.target.value)}
            onKeyDown={async (e) => {
              if (e.key === 'Enter' && name.trim()) {
                e.preventDefault();
                if (await patch({ name: name.trim() })) setRenaming(false);
              } else if (e.key === 'Escape') {
                setRenaming(false);
                setName(session.name);
              }
            }} />
        ) : (
          <h2>{session.name}</h2>
        )}
        <button data-testid="session-rename" type="button" onClick={() => { setName(session.name); setRenaming(!renaming); }}>
          Rename
        </button>
        {confirmDelete ? (
          <span className="confirm">
            Delete this session?
            <button data-testid="session-delete-confirm" type="button" className="danger" onClick={remove}>Delete</button>
            <button type="button" onClick={() => setConfirmDelete(false)}>Keep</button>
          </span>
        ) : (
          <button data-testid="session-delete" type="button" onClick={() => setConfirmDelete(true)}>Delete</button>
        )}
      </div>
      <div className="session-databases" data-testid="session-databases" aria-label="Attached databases">
        {session.connection_ids.map((name) => (
          <span key={name} className="session-db" data-testid="session-db" data-name={name}>
            {name}
            <button data-testid="session-detach" type="button" aria-label={`Detach ${name}`}
              disabled={session.connection_ids.length < 2} onClick={() => patch({ detach: [name] })}>×</button>
          </span>
        ))}
        <select data-testid="session-attach-select" aria-label="Connection or group to attach" value={attach}
          onChange={(e) => setAttach(e.target.value)}>
          <option value="">Attach…</option>
          {attachable.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
        <button data-testid="session-attach" type="button" disabled={!attach}
          onClick={async () => { if (await patch({ attach: [attach] })) setAttach(''); }}>Attach</button>
      </div>
      {error !== null && <ErrorNotice error={error} />}
    </header>
  );
}
