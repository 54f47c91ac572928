// The Builder's first step: the databases to ask, each with whether the caller can reach it now and why not
// (GET /api/connections/health), and the groups (@name: all its connections).
import type { Connection, ConnectionHealth, Group } from '../api/types';
import { ConnectionHealthBadge } from './ConnectionHealthBadge';

export function BuilderSources({ connections, groups, health, picked, onToggle }: {
  connections: Connection[] | null;
  groups: Group[];
  health: Map<string, ConnectionHealth> | null;
  picked: string[];
  onToggle: (name: string) => void;
}) {
  return (
    <div className="builder-options">
      {connections === null && <p className="muted" aria-busy="true">Loading connections…</p>}
      {connections?.map((c) => (
        <label key={c.id} className="option" data-testid="builder-conn-option" data-name={c.name}>
          <input type="checkbox" checked={picked.includes(c.name)} onChange={() => onToggle(c.name)} />
          <span>{c.name}</span>
          <ConnectionHealthBadge connection={c} health={health?.get(c.name) ?? null} checking={health === null} />
        </label>
      ))}
      {groups.map((g) => (
        <label key={g.name} className="option" data-testid="builder-group-option" data-name={g.name}>
          <input type="checkbox" checked={picked.includes('@' + g.name)} onChange={() => onToggle('@' + g.name)} />
          <span>@{g.name}</span>
          <span className="muted">{g.connections.join(', ')}</span>
        </label>
      ))}
    </div>
  );
}
