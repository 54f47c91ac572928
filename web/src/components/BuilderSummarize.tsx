// The Builder's summaries and groupings: with either, each database answers one row per group instead of rows.
import type { CatalogColumn } from '../api/types';
import type { BuilderAction, BuilderState } from '../builder/specReducer';
import { BuilderGroupRow } from './BuilderGroupRow';
import { BuilderSummaryRow } from './BuilderSummaryRow';

export function BuilderSummarize({ state, columns, dispatch }: {
  state: BuilderState; columns: CatalogColumn[]; dispatch: (a: BuilderAction) => void;
}) {
  return (
    <div className="builder-pair">
      <div>
        <h4>Summaries</h4>
        {state.summaries.map((s) => (
          <BuilderSummaryRow key={s.id} row={s} columns={columns}
            onChange={(change) => dispatch({ type: 'summary', id: s.id, change })}
            onRemove={() => dispatch({ type: 'remove-summary', id: s.id })} />
        ))}
        <button type="button" data-testid="builder-summary-add" onClick={() => dispatch({ type: 'add-summary' })}>+ Summary</button>
      </div>
      <div>
        <h4>Grouped by</h4>
        {state.groups.map((g) => (
          <BuilderGroupRow key={g.id} row={g} columns={columns}
            onChange={(change) => dispatch({ type: 'group', id: g.id, change })}
            onRemove={() => dispatch({ type: 'remove-group', id: g.id })} />
        ))}
        <button type="button" data-testid="builder-group-add" onClick={() => dispatch({ type: 'add-group' })}>+ Group</button>
      </div>
    </div>
  );
}
