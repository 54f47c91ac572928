// Reading a stored plan (query_history.plan, reports.plan): its statements, one per database, and its combine
// step. The document types a plan as a plain object, so its fields are checked here before use.
export type Query = { database: string; sql: string };

export function queriesOf(plan: Record<string, unknown>): Query[] {
  const q = plan['queries'];
  if (!Array.isArray(q)) return [];
  return q.flatMap((x: unknown) => {
    const o = x as Record<string, unknown>;
    return o && typeof o['sql'] === 'string'
      ? [{ database: typeof o['database'] === 'string' ? o['database'] : String(o['databases'] ?? '?'), sql: o['sql'] }]
      : [];
  });
}

export function combineOf(plan: Record<string, unknown>): string | null {
  const c = plan['combine'];
  return typeof c === 'string' && c !== '' ? c : null;
}

// A number a history entry keeps per database (row_counts, timings_ms), or null.
export function perDatabase(map: Record<string, unknown> | null | undefined, database: string): number | null {
  const v = map ? map[database] : undefined;
  return typeof v === 'number' ? v : null;
}
