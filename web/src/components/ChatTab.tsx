// The chat tab: the sessions sidebar beside (on a phone, above) the open session: its details and its thread.
// The sessions are the caller's own (GET /api/chat/sessions); creating, renaming, attaching and deleting go
// through the API and the list follows. `opened` (from the Builder's "Open in chat") is a session just made and
// an answer to show in it first: the tab opens on it.
import { useCallback, useEffect, useState } from 'react';
import * as api from '../api/client';
import type { Session } from '../api/types';
import type { AskState } from '../ask/askReducer';
import { ErrorNotice } from './ErrorNotice';
import { NewSessionDialog } from './NewSessionDialog';
import { SessionDetails } from './SessionDetails';
import { SessionSidebar } from './SessionSidebar';
import { Thread } from './Thread';

export interface OpenedSession {
  session: Session;
  answer: AskState;
}

export function ChatTab({ opened }: { opened: OpenedSession | null }) {
  const [sessions, setSessions] = useState<Session[]>(opened ? [opened.session] : []);
  const [openId, setOpenId] = useState<string | null>(opened?.session.id ?? null);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      setSessions(await api.listSessions());
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => { void reload(); }, [reload]);

  const open = sessions.find((s) => s.id === openId) ?? null;
  const replace = (s: Session) => setSessions((all) => all.map((x) => (x.id === s.id ? s : x)));

  return (
    <div className="chat">
      <SessionSidebar sessions={sessions} openId={openId} onOpen={setOpenId} onNew={() => setCreating(true)} />
      <section className="chat-main" aria-label="Conversation">
        {error !== null && <ErrorNotice error={error} />}
        {creating && (
          <NewSessionDialog
            onClose={() => setCreating(false)}
            onCreated={(s) => {
              setCreating(false);
              setSessions((all) => [s, ...all.filter((x) => x.id !== s.id)]);
              setOpenId(s.id);
            }}
          />
        )}
        {open ? (
          <>
            <SessionDetails
              session={open}
              onChanged={replace}
              onDeleted={() => {
                setSessions((all) => all.filter((x) => x.id !== open.id));
                setOpenId(null);
              }}
            />
            <Thread key={open.id} session={open} seed={opened?.session.id === open.id ? opened.answer : null} />
          </>
        ) : (
          !creating && <p className="muted">Open a session on the left, or start a new one over the databases you pick.</p>
        )}
      </section>
    </div>
  );
}
