// An ask's state as its Server-Sent Events arrive: a pure function (no React, no I/O) from the state and one
// event to the next state, so the lanes a person sees are exactly what the gateway said. One lane per database of
// the plan: queued → running → done | error | refused | cancelled, with the rows so far and the ms; the final
// `result` fills each lane's rows and the combined answer, the final `error` ends the ask (57014: cancelled).
import type { ApiErrorBody, Column, MultiQueryResult } from '../api/types';

export type LaneState = 'queued' | 'running' | 'done' | 'error' | 'refused' | 'cancelled';
export type AskStatus = 'running' | 'done' | 'error' | 'cancelled';
export type Row = Record<string, unknown>;

export interface LaneError {
  message: string;
  hint?: string | null;
  detail?: string | null;
  sqlstate?: string | null;
}

export interface Lane {
  database: string;
  sql: string;
  state: LaneState;
  rows: number | null;
  ms: number | null;
  error: LaneError | null;
  columns: Column[] | null;
  data: Row[] | null;
}

export interface Combined {
  sql: string | null;
  columns: Column[];
  rows: Row[];
  rowCount: number;
  ms: number | null;
}

export interface AskState {
  question: string;
  status: AskStatus;
  runId: string | null;
  lanes: Lane[];
  combineSql: string | null;
  combine: Combined | null;
  combineError: LaneError | null;
  explanation: string | null;
  error: ApiErrorBody | null;
  queryHistoryId: number | null;
}

export function startAsk(question: string): AskState {
  return {
    question, status: 'running', runId: null, lanes: [], combineSql: null, combine: null, combineError: null,
    explanation: null, error: null, queryHistoryId: null,
  };
}

export function newLane(database: string, sql: string): Lane {
  return { database, sql, state: 'queued', rows: null, ms: null, error: null, columns: null, data: null };
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function updateLane(state: AskState, database: string | null, change: (lane: Lane) => Lane): AskState {
  if (database === null) return state;
  const known = state.lanes.some((l) => l.database === database);
  const lanes = known ? state.lanes : [...state.lanes, newLane(database, '')];
  return { ...state, lanes: lanes.map((l) => (l.database === database ? change(l) : l)) };
}

function laneErrorOf(d: Obj): LaneError {
  return { message: str(d.message) ?? 'failed', hint: str(d.hint), detail: str(d.detail), sqlstate: str(d.sqlstate) };
}

// The lanes still going when the ask ends some other way than an answer.
function stopLanes(lanes: Lane[], to: LaneState): Lane[] {
  return lanes.map((l) => (l.state === 'queued' || l.state === 'running' ? { ...l, state: to } : l));
}

export function applyResult(state: AskState, result: MultiQueryResult): AskState {
  const byName = new Map(result.database_results.map((r) => [r.connection_name, r]));
  const lanes: Lane[] = state.lanes.map((lane) => {
    const r = byName.get(lane.database);
    if (!r) return lane;
    const err = r.error as Obj | null | undefined;
    return {
      ...lane,
      sql: r.sql ?? lane.sql,
      state: err ? (lane.state === 'refused' ? 'refused' : 'error') : 'done',
      rows: r.row_count,
      ms: r.execution_time_ms ?? lane.ms,
      error: err ? laneErrorOf(err) : lane.error,
      columns: r.columns,
      data: r.rows as Row[],
    };
  });
  for (const r of result.database_results) {
    if (state.lanes.some((l) => l.database === r.connection_name)) continue;
    const err = r.error as Obj | null | undefined;
    lanes.push({
      database: r.connection_name, sql: r.sql ?? '', state: err ? 'error' : 'done', rows: r.row_count,
      ms: r.execution_time_ms ?? null, error: err ? laneErrorOf(err) : null, columns: r.columns, data: r.rows as Row[],
    });
  }
  const c = result.combined as Obj | null | undefined;
  const combine: Combined | null = c
    ? {
        sql: str(c.sql), columns: (c.columns as Column[]) ?? [], rows: (c.rows as Row[]) ?? [],
        rowCount: num(c.row_count) ?? ((c.rows as Row[]) ?? []).length, ms: state.combine?.ms ?? null,
      }
    : null;
  return {
    ...state, status: 'done', lanes, combine, combineSql: combine?.sql ?? state.combineSql,
    explanation: result.explanation ?? null, queryHistoryId: result.query_history_id ?? null,
  };
}

export function askReducer(state: AskState, event: { event: string; data: unknown }): AskState {
  const d = (event.data && typeof event.data === 'object' ? event.data : {}) as Obj;
  const database = str(d.database);
  switch (event.event) {
    case 'run':
      return { ...state, runId: str(d.run_id) };
    case 'plan': {
      // Again after a repair round: lanes keep what they had, new statements replace the SQL.
      const queries = Array.isArray(d.queries) ? (d.queries as Obj[]) : [];
      const lanes = queries.map((q) => {
        const name = str(q.database) ?? '?';
        const old = state.lanes.find((l) => l.database === name);
        return { ...(old ?? newLane(name, '')), sql: str(q.sql) ?? '', state: 'queued' as LaneState, error: null };
      });
      return { ...state, lanes, combineSql: str(d.combine) };
    }
    case 'started':
      return updateLane(state, database, (l) => ({ ...l, state: 'running', rows: l.rows ?? 0 }));
    case 'rows':
      return updateLane(state, database, (l) => ({ ...l, state: 'running', rows: num(d.rows), ms: num(d.ms) }));
    case 'done':
      return updateLane(state, database, (l) => ({ ...l, state: 'done', rows: num(d.rows), ms: num(d.ms) }));
    case 'refused':
      if (database === null) return { ...state, error: { message: str(d.message) ?? 'refused', sqlstate: str(d.sqlstate) } };
      return updateLane(state, database, (l) => ({ ...l, state: 'refused', error: laneErrorOf(d) }));
    case 'repair':
      return updateLane(state, database, (l) => ({ ...l, state: 'error', error: laneErrorOf(d) }));
    case 'combine':
      return {
        ...state,
        combine: { sql: state.combineSql, columns: [], rows: [], rowCount: num(d.rows) ?? 0, ms: num(d.ms) },
      };
    case 'end':
      return state;
    case 'result':
      return applyResult(state, d as unknown as MultiQueryResult);
    case 'error': {
      if (d.error && typeof d.error === 'object') {
        // The ask's last event: it failed (or was cancelled: 57014).
        const error = d.error as ApiErrorBody;
        const cancelled = error.sqlstate === '57014';
        return {
          ...state, status: cancelled ? 'cancelled' : 'error', error,
          lanes: stopLanes(state.lanes, cancelled ? 'cancelled' : 'error'),
        };
      }
      if (database === 'combined') return { ...state, combineError: laneErrorOf(d) };
      if (database === null) return { ...state, error: { message: str(d.message) ?? 'failed', sqlstate: str(d.sqlstate) } };
      return updateLane(state, database, (l) => ({ ...l, state: 'error', error: laneErrorOf(d) }));
    }
    default:
      return state;
  }
}

// The ask's stream ended without a last event (the reader aborted it: a person cancelled).
export function cancelAsk(state: AskState): AskState {
  if (state.status !== 'running') return state;
  return { ...state, status: 'cancelled', lanes: stopLanes(state.lanes, 'cancelled') };
}

// A lane after "Run on this database": the rows of POST /api/sql, or its refusal.
export function laneFromSql(lane: Lane, sql: string, r: { row_count: number; rows: object[]; columns: Column[];
  execution_time_ms?: number | null; error?: object | null }): Lane {
  const err = r.error as Obj | null | undefined;
  return {
    ...lane, sql, state: err ? 'error' : 'done', rows: r.row_count, ms: r.execution_time_ms ?? null,
    error: err ? laneErrorOf(err) : null, columns: r.columns, data: r.rows as Row[],
  };
}

export function laneFailed(lane: Lane, sql: string, error: ApiErrorBody, refused: boolean): Lane {
  return { ...lane, sql, state: refused ? 'refused' : 'error', error: laneErrorOf(error as unknown as Obj), data: null, columns: null, rows: null };
}

// An answer made of a built plan's statements, not yet run (the Builder's "Open in chat"): a lane per database with
// its SQL, queued until a person runs it there.
export function askFromPlan(question: string, queries: { database: string; sql: string }[], explanation: string): AskState {
  return { ...startAsk(question), status: 'done', lanes: queries.map((q) => newLane(q.database, q.sql)), explanation };
}
