// The app's shell: asks the gateway who the browser is signed in as (GET /api/health names the role); shows the sign-in form until it is, then
// the header and the tabs. Signing out returns to the form. The Builder's "Open in chat" comes back here: the
// Chat tab opens with the session it made and the built statements as its first answer.
import { useCallback, useEffect, useState } from 'react';
import * as api from './api/client';
import type { Session } from './api/types';
import type { AskState } from './ask/askReducer';
import { Header } from './components/Header';
import { SignIn } from './components/SignIn';
import { TabBar, type TabName } from './components/TabBar';
import { BuilderTab } from './components/BuilderTab';
import { ChatTab, type OpenedSession } from './components/ChatTab';
import { CompareTab } from './components/CompareTab';
import { SchemaDiffTab } from './components/SchemaDiffTab';
import { ReportsTab } from './components/ReportsTab';
import { HistoryTab } from './components/HistoryTab';

type Who = { state: 'checking' } | { state: 'signed-out' } | { state: 'signed-in'; role: string };

export function App() {
  const [who, setWho] = useState<Who>({ state: 'checking' });
  const [tab, setTab] = useState<TabName>('chat');
  const [opened, setOpened] = useState<OpenedSession | null>(null);
  const openInChat = useCallback((session: Session, answer: AskState) => {
    setOpened({ session, answer });
    setTab('chat');
  }, []);

  useEffect(() => {
    let live = true;
    // GET /api/health, not /api/auth/me: a signed-out browser's 401 there carries a Basic challenge, and a
    // browser answers that with its password prompt instead of letting the page show its own form.
    api.health().then(
      (h) => live && setWho(h.role ? { state: 'signed-in', role: h.role } : { state: 'signed-out' }),
      () => live && setWho({ state: 'signed-out' }),
    );
    return () => { live = false; };
  }, []);

  const signOut = useCallback(async () => {
    try { await api.logout(); } finally { setWho({ state: 'signed-out' }); setTab('chat'); setOpened(null); }
  }, []);

  if (who.state === 'checking') return <main className="loading" aria-busy="true">Loading…</main>;
  if (who.state === 'signed-out') return <SignIn onSignedIn={(role) => setWho({ state: 'signed-in', role })} />;
  return (
    <div className="app">
      <Header role={who.role} onSignOut={signOut} />
      <TabBar current={tab} onChange={setTab} />
      <main className="tab-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} key={who.role}>
        {tab === 'chat' && <ChatTab opened={opened} />}
        {tab === 'builder' && <BuilderTab onOpenInChat={openInChat} />}
        {tab === 'compare' && <CompareTab />}
        {tab === 'schema-diff' && <SchemaDiffTab />}
        {tab === 'reports' && <ReportsTab />}
        {tab === 'history' && <HistoryTab />}
      </main>
    </div>
  );
}
