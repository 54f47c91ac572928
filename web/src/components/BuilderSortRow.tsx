// One sort key of the Builder: an output column and a direction.
import type { SortRow } from '../builder/specReducer';

export function BuilderSortRow({ row, outputs, onChange, onRemove }: {
  row: SortRow;
  outputs: string[];
  onChange: (change: Partial<Omit<SortRow, 'id'>>) => void;
  onRemove: () => void;
}) {
  return (
    <div className="builder-row" data-testid="builder-sort-row">
      <select data-testid="builder-sort-column" aria-label="Sort by" value={row.column} onChange={(e) => onChange({ column: e.target.value })}>
        <option value="">column…</option>
        {outputs.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      <select data-testid="builder-sort-dir" aria-label="Direction" value={row.dir}
        onChange={(e) => onChange({ dir: e.target.value as SortRow['dir'] })}>
        <option value="asc">ascending</option>
        <option value="desc">descending</option>
      </select>
      <button type="button" aria-label="Remove this sort key" onClick={onRemove}>✕</button>
    </div>
  );
}
