// The Builder's sort (by output columns) and limit (not in compare mode, which compares every row).
import type { BuilderAction, BuilderState } from '../builder/specReducer';
import { BuilderSortRow } from './BuilderSortRow';

export function BuilderSort({ state, outputs, dispatch }: {
  state: BuilderState; outputs: string[]; dispatch: (a: BuilderAction) => void;
}) {
  return (
    <>
      {state.sorts.map((s) => (
        <BuilderSortRow key={s.id} row={s} outputs={outputs}
          onChange={(change) => dispatch({ type: 'sort', id: s.id, change })}
          onRemove={() => dispatch({ type: 'remove-sort', id: s.id })} />
      ))}
      <div className="builder-row">
        <button type="button" data-testid="builder-sort-add" onClick={() => dispatch({ type: 'add-sort' })}>+ Sort key</button>
        <label className="inline">Limit
          <input data-testid="builder-limit" type="number" min={1} max={1000000} value={state.limit}
            disabled={state.mode === 'compare'} onChange={(e) => dispatch({ type: 'limit', limit: e.target.value })} />
        </label>
      </div>
    </>
  );
}
