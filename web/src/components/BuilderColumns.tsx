// The Builder's columns: the chosen table's columns (none ticked: every column all the databases have); one some
// database lacks is shown but cannot be picked; one whose types differ carries the note saying how.
import type { CatalogTable } from '../api/types';
import { BuilderTypeNote } from './BuilderTypeNote';

export function BuilderColumns({ table, picked, summarized, onToggle }: {
  table: CatalogTable;
  picked: string[];
  summarized: boolean;
  onToggle: (name: string) => void;
}) {
  return (
    <>
      <p className="muted">
        {summarized ? 'The query is summarized: its columns are the groups and summaries below.'
          : picked.length === 0 ? 'None ticked: every column all the databases have.' : `${picked.length} picked.`}
      </p>
      <div className="builder-options">
        {table.columns.map((c) => {
          const missing = c.missing_from.length > 0;
          return (
            <label key={c.name} className="option" data-testid="builder-column-option" data-name={c.name}
              data-type-differs={c.type_differs ? 'true' : undefined}>
              <input type="checkbox" checked={picked.includes(c.name)} disabled={missing || summarized}
                onChange={() => onToggle(c.name)} />
              <span>{c.name}</span>
              <span className="muted">{missing ? `missing from ${c.missing_from.join(', ')}` : c.family}</span>
              <BuilderTypeNote column={c} />
            </label>
          );
        })}
      </div>
    </>
  );
}
