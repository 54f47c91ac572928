// One connection's state for the caller: "reachable" (and how fast), or why not (the error multidb would raise).
import type { Connection, ConnectionHealth } from '../api/types';

export function ConnectionHealthBadge({ connection, health, checking }: { connection: Connection; health: ConnectionHealth | null; checking: boolean }) {
  let text: string;
  let ok: boolean;
  if (health) {
    ok = health.reachable;
    const why = health.error ? `: ${health.error.message}${health.error.hint ? ` (HINT: ${health.error.hint})` : ''}` : '';
    text = ok ? `reachable${health.ms != null ? ` (${health.ms.toFixed(0)} ms)` : ''}` : `${health.status}${why}`;
  } else {
    ok = connection.usable;
    text = ok ? (checking ? 'usable (checking…)' : 'usable') : 'not usable: no user mapping or USAGE for you';
  }
  return <span className={ok ? 'health ok' : 'health bad'} data-testid="conn-health">{text}</span>;
}
