// The History tab: the caller's asks, newest first (GET /api/history, 50 at a time, "Older" pages back with
// ?before=), beside the one opened (the newest at first): its plan (the SQL per database and the combine step),
// rows and timings.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import type * as T from '../api/types';
import { ErrorNotice } from './ErrorNotice';
import { HistoryEntryView } from './HistoryEntryView';
import { HistoryList } from './HistoryList';

const PAGE = 50;
type Pages = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; entries: T.HistoryEntry[]; more: boolean };

export function HistoryTab() {
  const [pages, setPages] = useState<Pages>({ state: 'loading' });
  const [opened, setOpened] = useState<number | null>(null);
  const [olderError, setOlderError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);

  useEffect(() => {
    let live = true;
    api.historyPage(PAGE).then(
      (entries) => {
        if (!live) return;
        setPages({ state: 'ready', entries, more: entries.length === PAGE });
        setOpened((current) => current ?? entries[0]?.id ?? null);  // the newest ask opens at once
      },
      (error: unknown) => live && setPages({ state: 'error', error }),
    );
    return () => { live = false; };
  }, []);

  async function older() {
    if (pages.state !== 'ready') return;
    const last = pages.entries[pages.entries.length - 1];
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const next = await api.historyPage(PAGE, last?.id);
      setPages({ state: 'ready', entries: [...pages.entries, ...next], more: next.length === PAGE });
    } catch (e) {
      setOlderError(e);
    } finally {
      setLoadingOlder(false);
    }
  }

  const entry = pages.state === 'ready' ? pages.entries.find((e) => e.id === opened) ?? null : null;
  return (
    <section className="tab history split" aria-label="History">
      <div className="split-list">
        <h2>Your asks</h2>
        {pages.state === 'loading' && <p className="muted" aria-busy="true">Loading history…</p>}
        {pages.state === 'error' && <ErrorNotice error={pages.error} testid="history-error" />}
        {pages.state === 'ready' && (
          <>
            <HistoryList entries={pages.entries} opened={opened} onOpen={setOpened} />
            {pages.more && (
              <button type="button" data-testid="history-older" onClick={older} disabled={loadingOlder}>
                {loadingOlder ? 'Loading…' : 'Older asks'}
              </button>
            )}
            {olderError !== null && <ErrorNotice error={olderError} testid="history-error" />}
          </>
        )}
      </div>
      <div className="split-detail">
        {entry ? <HistoryEntryView key={entry.id} entry={entry} onClose={() => setOpened(null)} /> :
          pages.state === 'ready' && pages.entries.length > 0 ? <p className="muted">Open an ask to see its plan.</p> : null}
      </div>
    </section>
  );
}
