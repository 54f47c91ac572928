// The Builder's filter: conditions joined by and or or (rows not finished yet are left out of the query).
import type { CatalogColumn } from '../api/types';
import type { BuilderAction, BuilderState } from '../builder/specReducer';
import { BuilderFilterRow } from './BuilderFilterRow';

export function BuilderFilter({ state, columns, dispatch }: {
  state: BuilderState; columns: CatalogColumn[]; dispatch: (a: BuilderAction) => void;
}) {
  return (
    <>
      {state.filters.length > 1 && (
        <label className="inline">Rows matching
          <select data-testid="builder-filter-join" value={state.join}
            onChange={(e) => dispatch({ type: 'join', join: e.target.value as 'and' | 'or' })}>
            <option value="and">all of (and)</option>
            <option value="or">any of (or)</option>
          </select>
        </label>
      )}
      {state.filters.map((f) => (
        <BuilderFilterRow key={f.id} row={f} columns={columns}
          onChange={(change) => dispatch({ type: 'filter', id: f.id, change })}
          onRemove={() => dispatch({ type: 'remove-filter', id: f.id })} />
      ))}
      <div><button type="button" data-testid="builder-filter-add" onClick={() => dispatch({ type: 'add-filter' })}>+ Condition</button></div>
    </>
  );
}
