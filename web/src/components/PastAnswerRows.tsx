// A past answer opened: its lanes as the ask left them, read from its history entry (GET /api/history of the
// session, paged back until the entry is found: there is no route for one entry) — each database's SQL, row
// count and ms, its rows paged through the server — and the combine step's SQL with its rows (the results
// route without a database runs the plan whole, combine step included). Lanes may be run again as live ones.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import type { HistoryEntry, Session } from '../api/types';
import type { Lane as LaneData } from '../ask/askReducer';
import { useLoad } from '../hooks/useLoad';
import { combineOf, perDatabase, queriesOf } from '../lib/plan';
import { ErrorNotice } from './ErrorNotice';
import { Lane } from './Lane';
import { PastRowsTable } from './PastRowsTable';
import { SqlView } from './SqlView';

const HISTORY_PAGE = 100;

async function historyEntry(sessionId: string, id: number): Promise<HistoryEntry> {
  let before: number | undefined;
  for (;;) {
    const page = await api.historyPage(HISTORY_PAGE, before, sessionId);
    const hit = page.find((e) => e.id === id);
    if (hit) return hit;
    if (page.length < HISTORY_PAGE) throw new Error(`the history entry ${id} of this answer is gone`);
    before = page[page.length - 1].id;
    if (before <= id) throw new Error(`the history entry ${id} of this answer is gone`);
  }
}

function lanesOf(entry: HistoryEntry): LaneData[] {
  const plan = (entry.plan ?? {}) as Record<string, unknown>;
  return queriesOf(plan).map((q) => ({
    database: q.database, sql: q.sql, state: 'done', error: null, columns: null, data: null,
    rows: perDatabase(entry.row_counts, q.database), ms: perDatabase(entry.timings_ms, q.database),
  }));
}

export function PastAnswerRows({ session, messageId, historyId }: { session: Session; messageId: number; historyId: number }) {
  const [load] = useLoad(() => historyEntry(session.id, historyId), [session.id, historyId]);
  const [lanes, setLanes] = useState<LaneData[]>([]);
  useEffect(() => { if (load.state === 'ready') setLanes(lanesOf(load.data)); }, [load]);
  if (load.state === 'loading') return <p className="muted" role="status">Loading the answer…</p>;
  if (load.state === 'error') return <ErrorNotice error={load.error} />;
  const combine = combineOf((load.data.plan ?? {}) as Record<string, unknown>);
  const onLane = (lane: LaneData) => setLanes((all) => (all.some((l) => l.database === lane.database)
    ? all.map((l) => (l.database === lane.database ? lane : l)) : [...all, lane]));
  return (
    <>
      <div className="lanes">
        {lanes.map((lane) => (
          <Lane key={lane.database} lane={lane} session={session} messageId={messageId} running={false} onLane={onLane}
            table={combine === null
              ? <PastRowsTable sessionId={session.id} messageId={messageId} database={lane.database} total={lane.rows} />
              : <p className="muted">Its rows went into the plan's combine step (below).</p>} />
        ))}
      </div>
      {combine !== null && (
        <section className="combine" aria-label="The combine step's result">
          <h3>Combined by the plan's combine step</h3>
          <SqlView text={combine} label="The combine step's SQL" testid="combine-sql" />
          <PastRowsTable sessionId={session.id} messageId={messageId} total={null} testid="combine-result" />
        </section>
      )}
    </>
  );
}
