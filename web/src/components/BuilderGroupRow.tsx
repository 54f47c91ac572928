// One grouping of the Builder: a column, and for a date or time column the period it is truncated to.
import type { CatalogColumn } from '../api/types';
import { UNITS, type GroupRow } from '../builder/specReducer';

export function BuilderGroupRow({ row, columns, onChange, onRemove }: {
  row: GroupRow;
  columns: CatalogColumn[];
  onChange: (change: Partial<Omit<GroupRow, 'id'>>) => void;
  onRemove: () => void;
}) {
  const dated = columns.find((c) => c.name === row.column)?.family === 'datetime';
  return (
    <div className="builder-row" data-testid="builder-group-row">
      <select data-testid="builder-group-column" aria-label="Group by column" value={row.column}
        onChange={(e) => onChange({ column: e.target.value, by: '' })}>
        <option value="">column…</option>
        {columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
      </select>
      <select data-testid="builder-group-by" aria-label="By period" value={row.by} disabled={!dated}
        onChange={(e) => onChange({ by: e.target.value as GroupRow['by'] })}>
        <option value="">none</option>
        {UNITS.map((u) => <option key={u} value={u}>{u}</option>)}
      </select>
      <button type="button" aria-label="Remove this grouping" onClick={onRemove}>✕</button>
    </div>
  );
}
