// What a compare found: a summary, then three sections (only in A, only in B, different), each one always
// there so an empty one says so.
import { useMemo } from 'react';
import type * as T from '../api/types';
import { asRow, columnsOf } from '../lib/cells';
import { CompareSection } from './CompareSection';

export function CompareResults({ result }: { result: T.CompareResult }) {
  // The key columns first (they name the row), then the others as the rows have them.
  const columns = useMemo(() => {
    const keys = columnsOf(result.differences.map((d) => asRow(d.key)));
    const rest = columnsOf(result.differences.flatMap((d) => [asRow(d.a_row), asRow(d.b_row)]));
    return [...keys, ...rest.filter((c) => !keys.includes(c))];
  }, [result]);
  const of = (status: 'only_in_a' | 'only_in_b' | 'different') => result.differences.filter((d) => d.status === status);
  return (
    <div className="compare-results" data-testid="compare-results" data-count={result.count}>
      <p className="summary" role="status">
        {result.count === 0
          ? `No differences: ${result.a} and ${result.b} return the same rows.`
          : `${result.count.toLocaleString('en-US')} difference${result.count === 1 ? '' : 's'} between ${result.a} and ${result.b}.`}
      </p>
      <CompareSection testid="compare-only-a" title={`Only in ${result.a}`} kind="only_in_a"
        differences={of('only_in_a')} columns={columns} a={result.a} b={result.b} />
      <CompareSection testid="compare-only-b" title={`Only in ${result.b}`} kind="only_in_b"
        differences={of('only_in_b')} columns={columns} a={result.a} b={result.b} />
      <CompareSection testid="compare-different" title="In both, different" kind="different"
        differences={of('different')} columns={columns} a={result.a} b={result.b} />
    </div>
  );
}
