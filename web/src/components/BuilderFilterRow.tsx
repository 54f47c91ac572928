// One condition of the Builder's filter: a column, an operator that fits its family (text: like/ilike; a date:
// "in the last …"), and the value(s) the operator takes.
import type { CatalogColumn } from '../api/types';
import { opsFor, UNITS, type FilterRow, type Op, type Unit } from '../builder/specReducer';

export function BuilderFilterRow({ row, columns, onChange, onRemove }: {
  row: FilterRow;
  columns: CatalogColumn[];
  onChange: (change: Partial<Omit<FilterRow, 'id'>>) => void;
  onRemove: () => void;
}) {
  const column = columns.find((c) => c.name === row.column);
  const ops = opsFor(column?.family);
  const pickColumn = (name: string) => {
    const next = opsFor(columns.find((c) => c.name === name)?.family);
    onChange({ column: name, op: next.includes(row.op) ? row.op : next[0] });
  };
  const needsValue = !['is null', 'is not null', 'last'].includes(row.op);
  return (
    <div className="builder-row" data-testid="builder-filter-row">
      <select data-testid="builder-filter-column" aria-label="Column" value={row.column} onChange={(e) => pickColumn(e.target.value)}>
        <option value="">column…</option>
        {columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
      </select>
      <select data-testid="builder-filter-op" aria-label="Operator" value={row.op}
        onChange={(e) => onChange({ op: e.target.value as Op })}>
        {ops.map((op) => <option key={op} value={op}>{op === 'last' ? 'in the last' : op}</option>)}
      </select>
      {row.op === 'last' && (
        <>
          <input data-testid="builder-filter-amount" aria-label="How many" type="number" min={1} value={row.amount}
            onChange={(e) => onChange({ amount: e.target.value })} />
          <select data-testid="builder-filter-unit" aria-label="Unit" value={row.unit}
            onChange={(e) => onChange({ unit: e.target.value as Unit })}>
            {UNITS.map((u) => <option key={u} value={u}>{u}s</option>)}
          </select>
        </>
      )}
      {needsValue && (
        <input data-testid="builder-filter-value" aria-label={row.op === 'between' ? 'From' : 'Value'} value={row.value}
          placeholder={row.op === 'in' || row.op === 'not in' ? 'a, b, c' : row.op.includes('like') ? '%pattern%' : 'value'}
          onChange={(e) => onChange({ value: e.target.value })} />
      )}
      {row.op === 'between' && (
        <input data-testid="builder-filter-value2" aria-label="To" value={row.value2} placeholder="and"
          onChange={(e) => onChange({ value2: e.target.value })} />
      )}
      <button type="button" data-testid="builder-filter-remove" aria-label="Remove this condition" onClick={onRemove}>✕</button>
    </div>
  );
}
