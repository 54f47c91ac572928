// One kind of difference of a compare, as a table paged by 100: a row only one side has, or a pair that
// differs — A's row above B's, the cells that changed marked (data-changed="true") on both.
import { useState } from 'react';
import type * as T from '../api/types';
import { asRow, cellText, isNumber, sameValue, type JsonRow } from '../lib/cells';
import { PAGE_SIZE, RowsPager } from './RowsPager';

type Difference = T.CompareResult['differences'][number];

export function CompareSection({ testid, title, kind, differences, columns, a, b }: {
  testid: string; title: string; kind: Difference['status']; differences: Difference[]; columns: string[];
  a: string; b: string;
}) {
  const [page, setPage] = useState(0);
  const id = `${testid}-title`;
  const shown = differences.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const cells = (row: JsonRow | null, other: JsonRow | null) =>
    columns.map((c) => {
      const changed = kind === 'different' && !sameValue(row?.[c], other?.[c]);
      return (
        <td key={c} className={isNumber(row?.[c]) ? 'num' : undefined} data-column={c}
          data-changed={changed ? 'true' : undefined}>
          {changed ? <span className="sr-only">changed: </span> : null}{cellText(row?.[c])}
        </td>
      );
    });
  return (
    <section className="compare-section" data-testid={testid} data-count={differences.length} aria-labelledby={id}>
      <h3 id={id}>{title} <span className="count">({differences.length.toLocaleString('en-US')})</span></h3>
      {differences.length === 0 ? <p className="muted">None.</p> : (
        <>
          <div className="table-box" role="region" aria-label={title} tabIndex={0}>
            <table>
              <thead>
                <tr>{kind === 'different' && <th scope="col">side</th>}{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
              </thead>
              {shown.map((d, i) => {
                const rowA = asRow(d.a_row), rowB = asRow(d.b_row);
                const key = JSON.stringify(d.key ?? i);
                if (kind !== 'different')
                  return (
                    <tbody key={key} data-testid="compare-row" data-key={key}>
                      <tr>{cells(kind === 'only_in_a' ? rowA : rowB, null)}</tr>
                    </tbody>
                  );
                return (
                  <tbody key={key} data-testid="compare-row" data-key={key} className="pair">
                    <tr data-side="a"><th scope="row">{a}</th>{cells(rowA, rowB)}</tr>
                    <tr data-side="b"><th scope="row">{b}</th>{cells(rowB, rowA)}</tr>
                  </tbody>
                );
              })}
            </table>
          </div>
          <RowsPager page={page} total={differences.length} onPage={setPage} label={title} />
        </>
      )}
    </section>
  );
}
