// One summary of the Builder: count (rows), or a function of a column that fits its family (sum and avg of
// numbers; min and max of numbers, text and dates; count_distinct of any).
import type { CatalogColumn } from '../api/types';
import { FNS, fnsFor, type Fn, type SummaryRow } from '../builder/specReducer';

export function BuilderSummaryRow({ row, columns, onChange, onRemove }: {
  row: SummaryRow;
  columns: CatalogColumn[];
  onChange: (change: Partial<Omit<SummaryRow, 'id'>>) => void;
  onRemove: () => void;
}) {
  const fitting = row.fn === 'count' ? [] : columns.filter((c) => fnsFor(c.family).includes(row.fn));
  const pickFn = (fn: Fn) => onChange({ fn, column: fn === 'count' || fitting.some((c) => c.name === row.column) ? row.column : '' });
  return (
    <div className="builder-row" data-testid="builder-summary-row">
      <select data-testid="builder-summary-fn" aria-label="Summary" value={row.fn} onChange={(e) => pickFn(e.target.value as Fn)}>
        {FNS.map((fn) => <option key={fn} value={fn}>{fn === 'count' ? 'count of rows' : fn}</option>)}
      </select>
      {row.fn !== 'count' && (
        <select data-testid="builder-summary-column" aria-label="Of column" value={row.column}
          onChange={(e) => onChange({ column: e.target.value })}>
          <option value="">column…</option>
          {fitting.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
        </select>
      )}
      <button type="button" aria-label="Remove this summary" onClick={onRemove}>✕</button>
    </div>
  );
}
