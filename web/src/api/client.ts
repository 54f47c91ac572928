// The typed API client: the only way the UI reaches the server. One function per endpoint the UI uses, each
// returning the generated type of the OpenAPI document; any non-2xx answer becomes an ApiError carrying the
// gateway's JSON error (message, detail, hint, sqlstate, database), which the UI shows as it is.
import type * as T from './types';
import { postEventStream } from './stream';

export class ApiError extends Error {
  readonly status: number;
  readonly body: T.ApiErrorBody;
  constructor(status: number, body: T.ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

// State-changing requests carry this header: a cross-site page cannot send it without CORS (src/gateway's
// request_guard), so a signed-in browser cannot be made to act by another site.
const CSRF_HEADER = { 'X-Multidb-CSRF': '1' };

export async function errorFrom(response: Response): Promise<ApiError> {
  let body: T.ApiErrorBody = { message: `${response.status} ${response.statusText}` };
  try {
    const parsed = (await response.json()) as { error?: T.ApiErrorBody };
    if (parsed && parsed.error && typeof parsed.error.message === 'string') body = parsed.error;
  } catch {
    // not JSON (a proxy's page, say): the status line is the message
  }
  return new ApiError(response.status, body);
}

async function request<R>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<R> {
  // Sent on every request, GETs too: it marks the request as the UI's own (not a navigation), which the gateway
  // may take as "no password prompt" (a 401 with a Basic challenge makes a browser prompt instead of answering).
  const headers: Record<string, string> = { Accept: 'application/json', ...CSRF_HEADER };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  const response = await fetch(path, init);
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as R;
  return (await response.json()) as R;
}

const enc = encodeURIComponent;

export function queryString(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

// --- sign-in -------------------------------------------------------------------------------------------------
export const login = (role: string, password: string) =>
  request<T.LoginResult>('POST', '/api/auth/login', { role, password });
export const logout = () => request<void>('POST', '/api/auth/logout');
export const me = () => request<T.Me>('GET', '/api/auth/me');
// Never 401: names the role only when the browser is signed in, so the page can ask it before anyone has.
export const health = () => request<T.Health>('GET', '/api/health');

// --- sessions --------------------------------------------------------------------------------------------------
export const listSessions = () => request<T.Session[]>('GET', '/api/chat/sessions');
export const getSession = (id: string) => request<T.Session>('GET', `/api/chat/sessions/${enc(id)}`);
export const createSession = (body: T.NewSession) => request<T.Session>('POST', '/api/chat/sessions', body);
export const patchSession = (id: string, body: T.PatchSession) =>
  request<T.Session>('PATCH', `/api/chat/sessions/${enc(id)}`, body);
export const deleteSession = (id: string) => request<void>('DELETE', `/api/chat/sessions/${enc(id)}`);
export const listMessages = (id: string) => request<T.Message[]>('GET', `/api/chat/sessions/${enc(id)}/messages`);
// The path of a message's rows, streamed by the server as CSV or JSON (export links point here).
export const messageResultsUrl = (sessionId: string, messageId: number, format: 'csv' | 'json', database?: string) =>
  `/api/chat/sessions/${enc(sessionId)}/messages/${enc(String(messageId))}/results${queryString({ format, database })}`;
// One page of those rows as JSON (?offset=&limit=): the server runs the plan again and sends only that page.
export const messageRowsPage = (sessionId: string, messageId: number, offset: number, limit: number, database?: string) =>
  request<T.MessageRows>('GET',
    `/api/chat/sessions/${enc(sessionId)}/messages/${enc(String(messageId))}/results${queryString({ format: 'json', database, offset, limit })}`);

// --- connections and groups ------------------------------------------------------------------------------------
export const listConnections = () => request<T.Connection[]>('GET', '/api/connections');
// Whether the caller can use each connection now, and why not (one SELECT 1 on each, within the connect timeout).
export const connectionHealth = () => request<T.ConnectionHealth[]>('GET', '/api/connections/health');
export const connectionSchema = (name: string) =>
  request<T.ConnectionSchema>('GET', `/api/connections/${enc(name)}/schema`);
export const listGroups = () => request<T.Group[]>('GET', '/api/groups');

// --- SQL a person wrote, cancelling a run ------------------------------------------------------------------------
export const runSql = (body: T.SqlRequest, signal?: AbortSignal) =>
  request<T.SqlResult>('POST', '/api/sql', body, signal);
export const cancelRun = (runId: string) => request<void>('DELETE', `/api/runs/${enc(runId)}`);

// --- reports ----------------------------------------------------------------------------------------------------
export const listReports = () => request<T.Report[]>('GET', '/api/reports');
export const saveReport = (body: T.NewReport) => request<T.Report>('POST', '/api/reports', body);

// --- asking in a session, streamed ------------------------------------------------------------------------------
// POST /api/chat/sessions/{id}/messages with Accept: text/event-stream: the ask's events as they happen (run, plan,
// started, rows, done, error, refused, repair, combine, end, then result or error). Aborting the signal closes the
// stream; the gateway takes that as a cancel.
export const askInSession = (sessionId: string, question: string, signal: AbortSignal) =>
  postEventStream(`/api/chat/sessions/${enc(sessionId)}/messages`, { question }, signal);

// --- the Compare, Schema diff, Reports and History tabs ------------------------------------------------------------
export const compareRows = (body: T.CompareRequest, signal?: AbortSignal) =>
  request<T.CompareResult>('POST', '/api/compare', body, signal);
export const schemaDiffOf = (a: string, b: string, refresh: boolean, signal?: AbortSignal) =>
  request<T.SchemaDiff>('GET', `/api/schema-diff${queryString({ a, b, refresh: refresh ? 'true' : undefined })}`,
    undefined, signal);
export const reportRuns = (name: string) => request<T.Run[]>('GET', `/api/reports/${enc(name)}/runs`);
export const reportRunRows = (name: string, runId: number) =>
  request<T.TaggedRow[]>('GET', `/api/reports/${enc(name)}/runs${queryString({ run_id: runId })}`);
export const runReportNow = (name: string) => request<T.Run>('POST', `/api/reports/${enc(name)}/runs`, {});
export const reportDiffOf = (name: string, runA?: number, runB?: number) =>
  request<T.ReportDiff>('GET', `/api/reports/${enc(name)}/diff${queryString({ run_a: runA, run_b: runB })}`);
export const setReportSchedule = (name: string, schedule: string) =>
  request<T.Scheduled>('PUT', `/api/reports/${enc(name)}/schedule`, { schedule });
export const clearReportSchedule = (name: string) =>
  request<void>('DELETE', `/api/reports/${enc(name)}/schedule`);
export const historyPage = (limit: number, before?: number, chatSessionId?: string) =>
  request<T.HistoryEntry[]>('GET', `/api/history${queryString({ limit, before, chat_session_id: chatSessionId })}`);
export const reportScheduling = () => request<T.Scheduling>('GET', '/api/reports/scheduling');

// --- the query builder ------------------------------------------------------------------------------------------
// The catalog of the chosen connections (names or @groups): the tables all have, those some lack, each column's
// type per database.
export const buildCatalog = (connections: string[], signal?: AbortSignal) =>
  request<T.SpecCatalog>('GET', `/api/build/catalog?${connections.map((c) => `connection=${enc(c)}`).join('&')}`,
    undefined, signal);
// The SQL a spec compiles to on each database (and the combine step); nothing runs.
export const buildSql = (spec: T.QuerySpec, signal?: AbortSignal) =>
  request<T.BuildPlan>('POST', '/api/build/sql', { spec }, signal);
// Runs a spec: fanout and totals answer as a multi-query does, compare as POST /api/compare does.
export const runBuild = (spec: T.QuerySpec, signal?: AbortSignal) =>
  request<T.BuildResult>('POST', '/api/build', { spec }, signal);
