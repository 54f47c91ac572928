// The rows added and removed between a report's last two runs (GET /api/reports/{name}/diff), in one table
// paged by 100: + added, − removed, the database, then the columns.
import { useMemo, useState } from 'react';
import * as api from '../api/client';
import type * as T from '../api/types';
import { useLoad } from '../hooks/useLoad';
import { asRow, cellText, columnsOf, isNumber } from '../lib/cells';
import { ErrorNotice } from './ErrorNotice';
import { PAGE_SIZE, RowsPager } from './RowsPager';

export function ReportDiffView({ report, runs }: { report: string; runs: T.Run[] }) {
  const newer = runs[0]?.run_id, older = runs[1]?.run_id;
  const [diff] = useLoad(
    () => (newer !== undefined && older !== undefined ? api.reportDiffOf(report, older, newer) : Promise.resolve(null)),
    [report, older, newer],
  );
  const [page, setPage] = useState(0);
  const changes = diff.state === 'ready' && diff.data ? diff.data.changes : [];
  const columns = useMemo(() => columnsOf(changes.map((c) => asRow(c.row))), [changes]);

  if (older === undefined) return <p className="muted" data-testid="report-diff" data-count="">A diff needs two runs: run the report again.</p>;
  if (diff.state === 'loading') return <p className="muted" aria-busy="true">Comparing run {older} with run {newer}…</p>;
  if (diff.state === 'error') return <ErrorNotice error={diff.error} testid="report-error" />;
  const added = changes.filter((c) => c.change === 'added').length;
  const removed = changes.length - added;
  const shown = changes.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  return (
    <div className="report-diff" data-testid="report-diff" data-count={changes.length} data-added={added} data-removed={removed}>
      <p role="status">
        From run {older} to run {newer}: {added} row{added === 1 ? '' : 's'} added, {removed} removed.
      </p>
      {changes.length > 0 && (
        <>
          <div className="table-box" role="region" aria-label="rows added and removed" tabIndex={0}>
            <table>
              <thead><tr><th scope="col">change</th><th scope="col">source_db</th>{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
              <tbody>
                {shown.map((c, i) => {
                  const row = asRow(c.row) ?? {};
                  return (
                    <tr key={page * PAGE_SIZE + i} data-testid="report-diff-row" data-change={c.change} className={`change-${c.change}`}>
                      <td>{c.change === 'added' ? '+ added' : '− removed'}</td>
                      <td>{c.database ?? ''}</td>
                      {columns.map((k) => <td key={k} className={isNumber(row[k]) ? 'num' : undefined}>{cellText(row[k])}</td>)}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <RowsPager page={page} total={changes.length} onPage={setPage} label="rows added and removed" />
        </>
      )}
    </div>
  );
}
