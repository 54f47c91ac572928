// What a column's type is on each database, shown when the types differ in family ("integer on production, text
// on backup"): such a column takes only what fits every type.
import type { CatalogColumn } from '../api/types';

export function BuilderTypeNote({ column }: { column: CatalogColumn }) {
  if (!column.type_differs) return null;
  const text = Object.entries(column.types).map(([db, type]) => `${type} on ${db}`).join(', ');
  return <span className="type-note" data-testid="builder-type-note">{text}</span>;
}
