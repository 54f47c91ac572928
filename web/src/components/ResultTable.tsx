// A result's rows, one page (100 rows) at a time: only that page is in the DOM, so 10,000 rows × 20 columns
// stay quick. Numbers are right-aligned, NULL is shown as NULL (set apart from the text 'NULL'), the table
// scrolls inside its own box.
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

export function ResultTable({ columns, rows, database, testid = 'result-table', label }: {
  columns: Column[];
  rows: Row[];
  database?: string;
  testid?: string;
  label?: string;
}) {
  const [page, setPage] = useState(0);
  const names = useMemo(() => (columns.length ? columns.map((c) => c.name) : Object.keys(rows[0] ?? {})), [columns, rows]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  useEffect(() => { if (page >= pages) setPage(pages - 1); }, [page, pages]);
  const first = Math.min(page, pages - 1) * PAGE;
  const shown = rows.slice(first, first + PAGE);
  const info = rows.length === 0 ? 'no rows' : `rows ${count(first + 1)}–${count(first + shown.length)} of ${count(rows.length)}`;
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
        <button data-testid="page-prev" type="button" aria-label="Previous page" disabled={first === 0}
          onClick={() => setPage((p) => Math.max(0, p - 1))}>‹ Prev</button>
        <span data-testid="page-info" aria-live="polite">{info}</span>
        <button data-testid="page-next" type="button" aria-label="Next page" disabled={first + PAGE >= rows.length}
          onClick={() => setPage((p) => Math.min(pages - 1, p + 1))}>Next ›</button>
      </div>
    </div>
  );
}

function CellOf({ value }: { value: unknown }) {
  return cell(value);
}
