// A result's rows, one page (100 rows) at a time: only that page is in the DOM, so 10,000 rows × 20 columns
// stay quick. Numbers are right-aligned, NULL is shown as NULL (set apart from the text 'NULL'), the table
// scrolls inside its own box. Given `server`, the rows are one page the server sent (a past answer's rows,
// paged through the API) and the controls ask the server for another page instead of slicing.
import { useEffect, useMemo, useState } from 'react';
import type { Column } from '../api/types';
import type { Row } from '../ask/askReducer';

const PAGE = 100;
const count = (n: number) => n.toLocaleString('en-US');

function cell(value: unknown) {
  if (value === null || value === undefined) return <td className="null">NULL</td>;
  if (typeof value === 'number') return <td className="num">{String(value)}</td>;
  if (typeof value === 'object') return <td>{JSON.stringify(value)}</td>;
  return <td>{String(value)}</td>;
}

// A page read from the server: where it starts, the total when known (else a short page is the last), and how
// to ask for the page starting elsewhere.
export interface ServerPage {
  offset: number;
  total: number | null;
  busy: boolean;
  onOffset: (offset: number) => void;
}

export function ResultTable({ columns, rows, database, testid = 'result-table', label, server }: {
  columns: Column[];
  rows: Row[];
  database?: string;
  testid?: string;
  label?: string;
  server?: ServerPage;
}) {
  const [page, setPage] = useState(0);
  const names = useMemo(() => (columns.length ? columns.map((c) => c.name) : Object.keys(rows[0] ?? {})), [columns, rows]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const paged = server !== undefined;
  useEffect(() => { if (!paged && page >= pages) setPage(pages - 1); }, [paged, page, pages]);
  const first = server ? server.offset : Math.min(page, pages - 1) * PAGE;
  const shown = server ? rows.slice(0, PAGE) : rows.slice(first, first + PAGE);
  const total = server ? server.total : rows.length;
  const hasNext = server ? (server.total !== null ? first + PAGE < server.total : rows.length >= PAGE) : first + PAGE < rows.length;
  const info = shown.length === 0 ? (first === 0 ? 'no rows' : 'no more rows')
    : `rows ${count(first + 1)}–${count(first + shown.length)}${total !== null ? ` of ${count(total)}` : ''}`;
  const go = (delta: number) => (server ? server.onOffset(Math.max(0, first + delta * PAGE))
    : setPage((p) => Math.min(pages - 1, Math.max(0, p + delta))));
  return (
    <div className="result" data-testid={testid} data-database={database}>
      <div className="table-box" tabIndex={0} role="region" aria-label={label ?? (database ? `Rows of ${database}` : 'Rows')}>
        <table>
          <thead><tr>{names.map((n) => <th key={n} scope="col">{n}</th>)}</tr></thead>
          <tbody>
            {shown.map((row, i) => (
              <tr key={first + i} data-testid="result-row">{names.map((n) => <CellOf key={n} value={row[n]} />)}</tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button data-testid="page-prev" type="button" aria-label="Previous page" disabled={first === 0 || server?.busy}
          onClick={() => go(-1)}>‹ Prev</button>
        <span data-testid="page-info" aria-live="polite">{info}</span>
        <button data-testid="page-next" type="button" aria-label="Next page" disabled={!hasNext || server?.busy}
          onClick={() => go(1)}>Next ›</button>
      </div>
    </div>
  );
}

function CellOf({ value }: { value: unknown }) {
  return cell(value);
}
