// The Builder tab's query as React state: a pure reducer (no React, no I/O) from the state and one action to the
// next state, and the pure readings of it — the spec as far as a step (each step's preview runs the spec so far),
// the whole spec, the output columns, the operators, summaries and truncations a column's family allows. Rows the
// person has not finished (a filter with no column or no value) stay out of the spec instead of making it fail.
import type { CatalogColumn, CatalogTable, FilterNode, QuerySpec } from '../api/types';

export type Family = CatalogColumn['family'];
export type Op = '=' | '<>' | '<' | '<=' | '>' | '>=' | 'between' | 'in' | 'not in' | 'like' | 'ilike' | 'is null'
  | 'is not null' | 'last';
export type Unit = 'day' | 'week' | 'month' | 'year';
export type Fn = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max';
export type Mode = 'fanout' | 'totals' | 'compare';
export type Step = 'table' | 'columns' | 'filter' | 'summarize' | 'sort';
export const STEPS: Step[] = ['table', 'columns', 'filter', 'summarize', 'sort'];

export interface FilterRow { id: number; column: string; op: Op; value: string; value2: string; amount: string; unit: Unit }
export interface SummaryRow { id: number; fn: Fn; column: string }
export interface GroupRow { id: number; column: string; by: '' | Unit }
export interface SortRow { id: number; column: string; dir: 'asc' | 'desc' }

export interface BuilderState {
  connections: string[];  // names and @groups, in the order picked
  table: string | null;   // schema.name
  columns: string[];      // none picked: every column all the databases have
  join: 'and' | 'or';
  filters: FilterRow[];
  summaries: SummaryRow[];
  groups: GroupRow[];
  sorts: SortRow[];
  limit: string;
  mode: Mode;
  compareA: string;
  compareB: string;
  compareKey: string[];
  nextId: number;
}

export const initialBuilder: BuilderState = {
  connections: [], table: null, columns: [], join: 'and', filters: [], summaries: [], groups: [], sorts: [],
  limit: '100', mode: 'fanout', compareA: '', compareB: '', compareKey: [], nextId: 1,
};

export type BuilderAction =
  | { type: 'toggle-connection'; name: string }
  | { type: 'table'; table: string | null }
  | { type: 'toggle-column'; name: string }
  | { type: 'join'; join: 'and' | 'or' }
  | { type: 'add-filter' } | { type: 'filter'; id: number; change: Partial<Omit<FilterRow, 'id'>> } | { type: 'remove-filter'; id: number }
  | { type: 'add-summary' } | { type: 'summary'; id: number; change: Partial<Omit<SummaryRow, 'id'>> } | { type: 'remove-summary'; id: number }
  | { type: 'add-group' } | { type: 'group'; id: number; change: Partial<Omit<GroupRow, 'id'>> } | { type: 'remove-group'; id: number }
  | { type: 'add-sort' } | { type: 'sort'; id: number; change: Partial<Omit<SortRow, 'id'>> } | { type: 'remove-sort'; id: number }
  | { type: 'limit'; limit: string }
  | { type: 'mode'; mode: Mode }
  | { type: 'compare'; a?: string; b?: string }
  | { type: 'toggle-key'; name: string };

const toggled = (list: string[], name: string) => (list.includes(name) ? list.filter((x) => x !== name) : [...list, name]);
function patch<R extends { id: number }>(rows: R[], id: number, change: Partial<Omit<R, 'id'>>): R[] {
  return rows.map((r) => (r.id === id ? { ...r, ...change } : r));
}

export function specReducer(state: BuilderState, action: BuilderAction): BuilderState {
  const id = state.nextId;
  switch (action.type) {
    case 'toggle-connection':
      return { ...state, connections: toggled(state.connections, action.name) };
    case 'table':
      // Another table: what was built on the last one's columns no longer applies.
      if (action.table === state.table) return state;
      return { ...initialBuilder, connections: state.connections, mode: state.mode, compareA: state.compareA,
        compareB: state.compareB, limit: state.limit, table: action.table, nextId: id };
    case 'toggle-column':
      return { ...state, columns: toggled(state.columns, action.name) };
    case 'join':
      return { ...state, join: action.join };
    case 'add-filter':
      return { ...state, nextId: id + 1,
        filters: [...state.filters, { id, column: '', op: '=', value: '', value2: '', amount: '30', unit: 'day' }] };
    case 'filter':
      return { ...state, filters: patch<typeof state.filters[number]>(state.filters, action.id, action.change) };
    case 'remove-filter':
      return { ...state, filters: state.filters.filter((f) => f.id !== action.id) };
    case 'add-summary':
      return { ...state, nextId: id + 1, summaries: [...state.summaries, { id, fn: 'count', column: '' }] };
    case 'summary':
      return { ...state, summaries: patch<typeof state.summaries[number]>(state.summaries, action.id, action.change) };
    case 'remove-summary':
      return { ...state, summaries: state.summaries.filter((s) => s.id !== action.id) };
    case 'add-group':
      return { ...state, nextId: id + 1, groups: [...state.groups, { id, column: '', by: '' }] };
    case 'group':
      return { ...state, groups: patch<typeof state.groups[number]>(state.groups, action.id, action.change) };
    case 'remove-group':
      return { ...state, groups: state.groups.filter((g) => g.id !== action.id) };
    case 'add-sort':
      return { ...state, nextId: id + 1, sorts: [...state.sorts, { id, column: '', dir: 'asc' }] };
    case 'sort':
      return { ...state, sorts: patch<typeof state.sorts[number]>(state.sorts, action.id, action.change) };
    case 'remove-sort':
      return { ...state, sorts: state.sorts.filter((s) => s.id !== action.id) };
    case 'limit':
      return { ...state, limit: action.limit };
    case 'mode':
      return { ...state, mode: action.mode };
    case 'compare':
      return { ...state, compareA: action.a ?? state.compareA, compareB: action.b ?? state.compareB };
    case 'toggle-key':
      return { ...state, compareKey: toggled(state.compareKey, action.name) };
    default:
      return state;
  }
}

// ---- what a column's family allows ------------------------------------------------------------------------------
const ORDERED: Op[] = ['=', '<>', '<', '<=', '>', '>=', 'between'];
const NULLS: Op[] = ['is null', 'is not null'];

export function opsFor(family: Family | undefined): Op[] {
  switch (family) {
    case 'numeric': return [...ORDERED, 'in', 'not in', ...NULLS];
    case 'text': return [...ORDERED, 'in', 'not in', 'like', 'ilike', ...NULLS];
    case 'datetime': return ['last', ...ORDERED, ...NULLS];
    case 'boolean': return ['=', '<>', ...NULLS];
    case 'uuid': return ['=', '<>', 'in', 'not in', ...NULLS];
    case 'other': return ['=', '<>', ...NULLS];
    default: return NULLS;  // mixed: no value means the same on every database
  }
}

export function fnsFor(family: Family | undefined): Fn[] {
  switch (family) {
    case 'numeric': return ['count_distinct', 'sum', 'avg', 'min', 'max'];
    case 'text': case 'datetime': return ['count_distinct', 'min', 'max'];
    case 'mixed': return [];
    default: return ['count_distinct'];
  }
}

export const FNS: Fn[] = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'];
export const UNITS: Unit[] = ['day', 'week', 'month', 'year'];

// ---- the spec ---------------------------------------------------------------------------------------------------
export const tableOf = (catalog: { tables: CatalogTable[] } | null, name: string | null) =>
  catalog?.tables.find((t) => `${t.schema}.${t.name}` === name) ?? null;

// A column every chosen database has (the only ones offered).
export const sharedColumns = (table: CatalogTable | null) => (table ? table.columns.filter((c) => c.missing_from.length === 0) : []);

function valueOf(text: string, family: Family | undefined): string | number | boolean {
  const t = text.trim();
  if (family === 'numeric' && t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (family === 'boolean' && (t === 'true' || t === 'false')) return t === 'true';
  return text;
}

function conditionOf(f: FilterRow, family: Family | undefined): FilterNode | null {
  if (!f.column) return null;
  const base = { column: f.column, op: f.op };
  switch (f.op) {
    case 'is null': case 'is not null':
      return base;
    case 'between':
      if (f.value.trim() === '' || f.value2.trim() === '') return null;
      return { ...base, value: [valueOf(f.value, family), valueOf(f.value2, family)] };
    case 'in': case 'not in': {
      const items = f.value.split(',').map((v) => v.trim()).filter((v) => v !== '');
      return items.length ? { ...base, value: items.map((v) => valueOf(v, family)) } : null;
    }
    case 'last': {
      const amount = Number(f.amount);
      return Number.isInteger(amount) && amount >= 1 ? { ...base, value: { amount, unit: f.unit } } : null;
    }
    default:
      return f.value === '' ? null : { ...base, value: valueOf(f.value, family) };
  }
}

export function groupOutput(g: GroupRow): string {
  return g.by ? `${g.column}_${g.by}` : g.column;
}

export function summaryOutput(s: SummaryRow): string {
  return s.fn === 'count' ? 'count' : `${s.fn}_${s.column}`;
}

const summaryDone = (s: SummaryRow) => s.fn === 'count' || s.column !== '';

// The output columns of the query as built: the groups and summaries; else the columns picked; else every
// column the databases share.
export function outputColumns(state: BuilderState, table: CatalogTable | null): string[] {
  const groups = state.groups.filter((g) => g.column);
  const summaries = state.summaries.filter(summaryDone);
  if (groups.length || summaries.length) return [...groups.map(groupOutput), ...summaries.map(summaryOutput)];
  const shared = sharedColumns(table).map((c) => c.name);
  return state.columns.length ? shared.filter((c) => state.columns.includes(c)) : shared;
}

// The spec as far as `step` (a preview's: fanout, `limit` rows), or the whole spec (step null: as the mode says).
// null when there is nothing to run yet (no connection or no table).
export function specOf(state: BuilderState, table: CatalogTable | null, step: Step | null, limit?: number): QuerySpec | null {
  if (!state.connections.length || !state.table || !table) return null;
  const upTo = (s: Step) => step === null || STEPS.indexOf(step) >= STEPS.indexOf(s);
  const spec: QuerySpec = { connections: state.connections, table: state.table };
  const family = (name: string) => table.columns.find((c) => c.name === name)?.family;
  const groups = upTo('summarize') ? state.groups.filter((g) => g.column) : [];
  const summaries = upTo('summarize') ? state.summaries.filter(summaryDone) : [];
  if (upTo('columns') && state.columns.length && !groups.length && !summaries.length) {
    spec.columns = outputColumns({ ...state, groups: [], summaries: [] }, table);
  }
  if (upTo('filter')) {
    const conditions = state.filters.map((f) => conditionOf(f, family(f.column))).filter((c): c is FilterNode => c !== null);
    if (conditions.length === 1) spec.filter = conditions[0];
    else if (conditions.length > 1) spec.filter = state.join === 'and' ? { and: conditions } : { or: conditions };
  }
  if (groups.length) spec.group_by = groups.map((g) => (g.by ? { column: g.column, by: g.by } : g.column));
  if (summaries.length) spec.summaries = summaries.map((s) => (s.fn === 'count' ? { fn: 'count' } : { fn: s.fn, column: s.column }));
  if (upTo('sort')) {
    const outputs = outputColumns(state, table);
    const sorts = state.sorts.filter((s) => s.column && outputs.includes(s.column));
    if (sorts.length) spec.sort = sorts.map((s) => ({ column: s.column, dir: s.dir }));
    // Grouped and not sorted: in the groups' order (months in a row read as a timeline, in a table and a chart).
    else if (groups.length) spec.sort = groups.map((g) => ({ column: groupOutput(g), dir: 'asc' as const }));
  }
  if (step !== null) {
    spec.limit = limit ?? 5;
    return spec;
  }
  if (state.mode === 'compare') {
    // Compare mode names its two databases in compare; connections may be left out, and no limit applies.
    delete spec.connections;
    const outputs = outputColumns(state, table);
    spec.mode = 'compare';
    spec.compare = { a: state.compareA, b: state.compareB, key: state.compareKey.filter((k) => outputs.includes(k)) };
    return spec;
  }
  const limitValue = Number(state.limit);
  if (state.limit.trim() !== '' && Number.isInteger(limitValue)) spec.limit = limitValue;
  if (state.mode === 'totals') spec.mode = 'totals';
  return spec;
}
