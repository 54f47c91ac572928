// What a report saved from the Builder runs: its spec is compiled again at every run (against each database's
// schema of the day), so the SQL shown is what POST /api/build/sql compiles it to now, with the spec's one-line
// description. A spec that no longer compiles (a column dropped since) shows that error, as its next run would.
import * as api from '../api/client';
import type * as T from '../api/types';
import { useLoad } from '../hooks/useLoad';
import { ErrorNotice } from './ErrorNotice';
import { PlanView } from './PlanView';

export function ReportSpecPlan({ name, spec }: { name: string; spec: T.QuerySpec }) {
  const [compiled] = useLoad(() => api.buildSql(spec), [name]);
  if (compiled.state === 'loading') return <p className="muted" aria-busy="true">Compiling its spec…</p>;
  if (compiled.state === 'error') return <ErrorNotice error={compiled.error} testid="report-error" />;
  const plan = compiled.data;
  return (
    <>
      <p className="muted">Built in the Builder ({plan.mode}): {plan.description}. Its SQL as the spec compiles today:</p>
      <PlanView plan={{ queries: plan.queries, combine: plan.combine }} testid="report-plan" title={`the plan of ${name}`} />
    </>
  );
}
