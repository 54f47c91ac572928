// The Builder's table: only the tables every chosen database has are offered; the others are listed with the
// databases that lack them, so a person sees why a table is not there.
import type { SpecCatalog } from '../api/types';

export function BuilderTablePicker({ catalog, table, onTable }: {
  catalog: SpecCatalog;
  table: string | null;
  onTable: (table: string) => void;
}) {
  const everywhere = catalog.tables.filter((t) => t.missing_from.length === 0);
  const somewhere = catalog.tables.filter((t) => t.missing_from.length > 0);
  return (
    <>
      <div className="builder-options" role="radiogroup" aria-label="Table">
        {everywhere.length === 0 && <p className="muted">No table is in every chosen database.</p>}
        {everywhere.map((t) => {
          const name = `${t.schema}.${t.name}`;
          return (
            <label key={name} className="option" data-testid="builder-table-option" data-name={name}>
              <input type="radio" name="builder-table" checked={table === name} onChange={() => onTable(name)} />
              <span>{t.schema === 'public' ? t.name : name}</span>
            </label>
          );
        })}
      </div>
      {somewhere.length > 0 && (
        <details className="builder-missing">
          <summary>{somewhere.length} table{somewhere.length === 1 ? '' : 's'} not in every database</summary>
          <ul>
            {somewhere.map((t) => (
              <li key={`${t.schema}.${t.name}`} data-testid="builder-table-missing" data-name={`${t.schema}.${t.name}`}>
                {t.schema}.{t.name}: missing from {t.missing_from.join(', ')}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
