// How a value of a JSON row reads in a table cell, and the columns of a list of rows (in the order they first
// appear: the API's rows are JSON objects, and a row lacking a column shows an empty cell).
export type JsonRow = Record<string, unknown>;

export function cellText(value: unknown): string {
  if (value === null) return 'NULL';
  if (value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function isNumber(value: unknown): boolean {
  return typeof value === 'number';
}

export function columnsOf(rows: Iterable<JsonRow | null | undefined>): string[] {
  const seen = new Set<string>();
  for (const row of rows) if (row) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

// Two cells are the same when their JSON is: 1 and 1.0 are, "1" and 1 are not.
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export function asRow(value: unknown): JsonRow | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonRow) : null;
}
