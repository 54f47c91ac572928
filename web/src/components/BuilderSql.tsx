// The SQL a spec compiles to (POST /api/build/sql), read-only: one statement per database, then the combine step
// (totals) as "combined".
import type { BuildPlan } from '../api/types';
import { SqlView } from './SqlView';

export function BuilderSql({ plan }: { plan: BuildPlan }) {
  const items = [...plan.queries, ...(plan.combine ? [{ database: 'combined', sql: plan.combine }] : [])];
  return (
    <section className="builder-sql" data-testid="builder-sql" aria-label="The built SQL">
      <p className="muted">{plan.description}</p>
      {items.map((q) => (
        <div key={q.database} className="plan-step" data-testid="builder-sql-item" data-database={q.database}>
          <h4>{q.database === 'combined' ? 'Combine step' : q.database}</h4>
          <SqlView text={q.sql} label={`SQL for ${q.database}`} testid="builder-sql-text" />
        </div>
      ))}
    </section>
  );
}
