// How the Builder's query runs: every database's rows (fanout), one result over all (totals), or database A
// against B paired by key columns (compare).
import type { BuilderAction, BuilderState, Mode } from '../builder/specReducer';

const MODES: { mode: Mode; label: string }[] = [
  { mode: 'fanout', label: "Each database's rows" },
  { mode: 'totals', label: 'Totals across the databases' },
  { mode: 'compare', label: 'Compare two databases' },
];

export function BuilderMode({ state, databases, outputs, dispatch }: {
  state: BuilderState; databases: string[]; outputs: string[]; dispatch: (a: BuilderAction) => void;
}) {
  return (
    <>
      <div className="builder-options" role="radiogroup" aria-label="Mode">
        {MODES.map((m) => (
          <label key={m.mode} className="option">
            <input type="radio" name="builder-mode" data-testid={`builder-mode-${m.mode}`} checked={state.mode === m.mode}
              onChange={() => dispatch({ type: 'mode', mode: m.mode })} />
            <span>{m.label}</span>
          </label>
        ))}
      </div>
      {state.mode === 'compare' && (
        <>
          <div className="builder-row">
            <label className="inline">A
              <select data-testid="builder-compare-a" value={state.compareA} onChange={(e) => dispatch({ type: 'compare', a: e.target.value })}>
                {databases.map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            </label>
            <label className="inline">B
              <select data-testid="builder-compare-b" value={state.compareB} onChange={(e) => dispatch({ type: 'compare', b: e.target.value })}>
                {databases.map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            </label>
          </div>
          <fieldset className="builder-options">
            <legend>Key columns (none: whole rows are compared)</legend>
            {outputs.map((c) => (
              <label key={c} className="option" data-testid="builder-compare-key-option" data-name={c}>
                <input type="checkbox" checked={state.compareKey.includes(c)} onChange={() => dispatch({ type: 'toggle-key', name: c })} />
                <span>{c}</span>
              </label>
            ))}
          </fieldset>
        </>
      )}
    </>
  );
}
