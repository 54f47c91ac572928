// A labelled choice of one connection (by name), from GET /api/connections; a connection the caller cannot use
// is listed but disabled, with why.
import type * as T from '../api/types';

export function ConnectionSelect({ label, testid, connections, value, onChange }: {
  label: string; testid: string; connections: T.Connection[]; value: string; onChange: (name: string) => void;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <select data-testid={testid} value={value} onChange={(e) => onChange(e.target.value)}>
        {connections.length === 0 && <option value="">no connections</option>}
        {connections.map((c) => (
          <option key={c.id} value={c.name} disabled={!c.usable}>
            {c.name}{c.dbname && c.dbname !== c.name ? ` (${c.dbname})` : ''}{c.usable ? '' : ' — not usable by you'}
          </option>
        ))}
      </select>
    </label>
  );
}
