// One database's lane of an answer: its state as the ask goes (queued, running, done, error, refused,
// cancelled), rows so far and ms; its SQL in an editor, which a person may change and run again on this
// database or on all the session's (POST /api/sql, guarded by the server: a refusal shows its message and
// HINT); its error; its rows (paged) and their exports. A past answer's lane passes `table`: its rows as the
// server pages them, shown until a run here brings rows of its own.
import { useEffect, useState, type ReactNode } from 'react';
import * as api from '../api/client';
import { ApiError } from '../api/client';
import type { Session } from '../api/types';
import { laneFailed, laneFromSql, type Lane as LaneData } from '../ask/askReducer';
import { ExportLinks } from './ExportLinks';
import { ResultTable } from './ResultTable';
import { SqlEditor } from './SqlEditor';

// What the answer needs of its session: its id (the export links) and its connections ("Run on all"). The Builder
// passes the spec's connections and no message, so no export link points at a message that does not exist.
export type SessionRef = Pick<Session, 'id' | 'connection_ids'>;

const count = (n: number) => n.toLocaleString('en-US');

export function Lane({ lane, session, messageId, running, onLane, table }: {
  lane: LaneData;
  session: SessionRef;
  messageId: number | null;
  running: boolean;
  onLane: (lane: LaneData) => void;
  table?: ReactNode;
}) {
  const [draft, setDraft] = useState(lane.sql);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(lane.sql), [lane.sql]);

  async function rerun(all: boolean) {
    const sql = draft;
    setBusy(true);
    onLane({ ...lane, state: 'running', rows: 0, ms: null, error: null });
    try {
      const result = await api.runSql({ sql, connection_ids: all ? session.connection_ids : [lane.database] });
      const mine = result.database_results.find((r) => r.connection_name === lane.database);
      if (mine) onLane(laneFromSql(lane, sql, mine));
      if (all) {
        for (const r of result.database_results) {
          if (r.connection_name !== lane.database) onLane(laneFromSql({ ...lane, database: r.connection_name }, sql, r));
        }
      }
    } catch (e) {
      const body = e instanceof ApiError ? e.body : { message: e instanceof Error ? e.message : String(e) };
      const refused = e instanceof ApiError && (e.status === 422 || e.body.sqlstate === '42501');
      onLane(laneFailed(lane, sql, body, refused));
    } finally {
      setBusy(false);
    }
  }

  const rowsText = lane.rows === null ? '—' : `${count(lane.rows)} rows${lane.state === 'running' ? ' so far' : ''}`;
  return (
    <section className={`lane lane-${lane.state}`} data-testid="lane" data-database={lane.database} data-state={lane.state}
      aria-label={`Database ${lane.database}`}>
      <header className="lane-head">
        <h3>{lane.database}</h3>
        <span className={`badge ${lane.state}`}>{lane.state}</span>
        <span data-testid="lane-rows">{rowsText}</span>
        <span data-testid="lane-ms">{lane.ms === null ? '' : `${lane.ms.toFixed(0)} ms`}</span>
      </header>
      <SqlEditor testid="lane-sql" label={`SQL for ${lane.database}`} value={draft} onChange={setDraft} />
      <div className="buttons">
        <button data-testid="lane-run-this" type="button" disabled={busy || running || !draft.trim()} onClick={() => rerun(false)}>
          Run on this database
        </button>
        <button data-testid="lane-run-all" type="button" disabled={busy || running || !draft.trim()} onClick={() => rerun(true)}>
          Run on all the session's databases
        </button>
        {messageId !== null && (
          <ExportLinks sessionId={session.id} messageId={messageId} database={lane.database} prefix="lane"
            label={`the rows of ${lane.database}`} />
        )}
      </div>
      {lane.error && (
        <div className="error" role="alert" data-testid="lane-error">
          <span className="error-message">{lane.error.message}</span>
          {lane.error.detail ? <span className="error-detail">{lane.error.detail}</span> : null}
          {lane.error.hint ? <span className="error-hint" data-testid="lane-hint">HINT: {lane.error.hint}</span> : null}
        </div>
      )}
      {lane.data === null && lane.state === 'done' && table}
      {lane.data !== null && (lane.data.length > 0 || !lane.rows
        ? <ResultTable columns={lane.columns ?? []} rows={lane.data} database={lane.database} />
        : <p className="muted">Its rows went into the plan's combine step (below).</p>)}
    </section>
  );
}
