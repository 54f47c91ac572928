// A stored plan (a History entry's, a report's), read-only: the SQL of each database, the sets as they were
// written (a group, *), and the combine step that joined their rows, each SQL in a read-only CodeMirror view.
import { queriesOf } from '../lib/plan';
import { SqlView } from './SqlView';

type PlanSet = { databases: string[]; sql: string; relation?: string | null; members?: string[] };

function setsOf(plan: Record<string, unknown>): PlanSet[] {
  const s = plan['sets'];
  return Array.isArray(s) ? (s as PlanSet[]).filter((x) => x && typeof x.sql === 'string' && Array.isArray(x.databases)) : [];
}

// A set's members share one statement: show it once, not once per member (a fleet has a thousand).
export function PlanView({ plan, testid, title }: { plan: unknown; testid: string; title: string }) {
  if (plan === null || typeof plan !== 'object') {
    return <p className="muted" data-testid={testid} data-empty="true">No plan: the ask ended before one was made.</p>;
  }
  const p = plan as Record<string, unknown>;
  const sets = setsOf(p);
  const inSets = new Set(sets.flatMap((s) => s.members ?? []));
  const queries = queriesOf(p).filter((q) => !inSets.has(q.database));
  const combine = typeof p['combine'] === 'string' && p['combine'] !== '' ? (p['combine'] as string) : null;
  const explanation = typeof p['explanation'] === 'string' && p['explanation'] !== '' ? (p['explanation'] as string) : null;
  return (
    <div className="plan" data-testid={testid} aria-label={title} role="group">
      {explanation && <p className="explanation">{explanation}</p>}
      {sets.map((s, i) => (
        <section key={`set-${i}`} className="plan-step" data-testid="plan-set" data-database={s.databases.join(', ')}>
          <h4>{s.databases.join(', ')}{s.members ? ` — ${s.members.length} database${s.members.length === 1 ? '' : 's'}` : ''}
            {s.relation ? <> (rows as <code>{s.relation}</code>)</> : null}</h4>
          <SqlView text={s.sql} label={`SQL run on ${s.databases.join(', ')}`} />
        </section>
      ))}
      {queries.map((q, i) => (
        <section key={`q-${i}`} className="plan-step" data-testid="plan-query" data-database={q.database}>
          <h4>{q.database}</h4>
          <SqlView text={q.sql} label={`SQL run on ${q.database}`} testid="plan-sql" />
        </section>
      ))}
      {combine && (
        <section className="plan-step" data-testid="plan-combine">
          <h4>Combine step (on the coordinator, over the databases' rows)</h4>
          <SqlView text={combine} label="the combine step's SQL" testid="plan-combine-sql" />
        </section>
      )}
      {sets.length === 0 && queries.length === 0 && !combine && <p className="muted">The plan has no SQL.</p>}
    </div>
  );
}
