// A table of tagged rows ({database, row}: a report run's rows): the source database first, then the rows'
// columns; one page of 100 rows at a time, in a box that scrolls on its own.
import { useMemo, useState } from 'react';
import type * as T from '../api/types';
import { asRow, cellText, columnsOf, isNumber } from '../lib/cells';
import { PAGE_SIZE, RowsPager } from './RowsPager';

export function RowsTable({ rows, label, testid, rowTestid }: {
  rows: T.TaggedRow[]; label: string; testid: string; rowTestid: string;
}) {
  const [page, setPage] = useState(0);
  const columns = useMemo(() => columnsOf(rows.map((r) => asRow(r.row))), [rows]);
  if (rows.length === 0) return <p className="muted" data-testid={testid} data-rows="0">No rows.</p>;
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  return (
    <div className="rows" data-testid={testid} data-rows={rows.length}>
      <div className="table-box" role="region" aria-label={label} tabIndex={0}>
        <table>
          <thead><tr><th scope="col">source_db</th>{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
          <tbody>
            {shown.map((r, i) => {
              const row = asRow(r.row) ?? {};
              return (
                <tr key={page * PAGE_SIZE + i} data-testid={rowTestid} data-database={r.database}>
                  <td>{r.database}</td>
                  {columns.map((c) => <td key={c} className={isNumber(row[c]) ? 'num' : undefined}>{cellText(row[c])}</td>)}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <RowsPager page={page} total={rows.length} onPage={setPage} label={label} />
    </div>
  );
}
