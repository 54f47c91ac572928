// The Builder tab: a query over several databases built by picking, not written: the sources, a table every one
// has, columns, a filter, summaries grouped by columns, sort and limit, and a mode. The query is React state (the
// pure specReducer), read as a spec for the API: each step previews its first rows per database, Run shows the
// answer as the chat or the Compare tab does, View SQL the compiled statements; "Open in chat" hands a new session
// and the built statements to the app (onOpenInChat), which opens the Chat tab on them.
import { useEffect, useMemo, useReducer, useState } from 'react';
import * as api from '../api/client';
import type { BuildPlan, BuildResult, Connection, ConnectionHealth, Group, QuerySpec, Session, SpecCatalog } from '../api/types';
import { askFromPlan, type AskState } from '../ask/askReducer';
import { initialBuilder, outputColumns, sharedColumns, specOf, specReducer, STEPS, tableOf, type Step } from '../builder/specReducer';
import { BuilderActions } from './BuilderActions';
import { BuilderColumns } from './BuilderColumns';
import { BuilderFilter } from './BuilderFilter';
import { BuilderMode } from './BuilderMode';
import { BuilderPreview } from './BuilderPreview';
import { BuilderResults } from './BuilderResults';
import { BuilderSort } from './BuilderSort';
import { BuilderSources } from './BuilderSources';
import { BuilderSql } from './BuilderSql';
import { BuilderStep } from './BuilderStep';
import { BuilderSummarize } from './BuilderSummarize';
import { BuilderTablePicker } from './BuilderTablePicker';
import { ErrorNotice } from './ErrorNotice';

type Catalog = { state: 'none' } | { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: SpecCatalog };
type Outcome = { state: 'idle' } | { state: 'busy' } | { state: 'error'; error: unknown }
  | { state: 'result'; result: BuildResult; run: number } | { state: 'sql'; plan: BuildPlan };

export function BuilderTab({ onOpenInChat }: { onOpenInChat: (session: Session, answer: AskState) => void }) {
  const [state, dispatch] = useReducer(specReducer, initialBuilder);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [groups, setGroups] = useState<Group[]>([]);
  const [health, setHealth] = useState<Map<string, ConnectionHealth> | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [catalog, setCatalog] = useState<Catalog>({ state: 'none' });
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });

  useEffect(() => {
    let live = true;
    Promise.all([api.listConnections(), api.listGroups()]).then(
      ([c, g]) => { if (live) { setConnections(c); setGroups(g); } },
      (e) => live && setLoadError(e),
    );
    api.connectionHealth().then((h) => live && setHealth(new Map(h.map((x) => [x.name, x]))), () => undefined);
    return () => { live = false; };
  }, []);

  // The catalog of the databases picked, again whenever the pick changes.
  const picked = state.connections.join('\n');
  useEffect(() => {
    if (!picked) { setCatalog({ state: 'none' }); return; }
    const controller = new AbortController();
    setCatalog({ state: 'loading' });
    api.buildCatalog(picked.split('\n'), controller.signal).then(
      (data) => { if (!controller.signal.aborted) setCatalog({ state: 'ready', data }); },
      (error: unknown) => { if (!controller.signal.aborted) setCatalog({ state: 'error', error }); },
    );
    return () => controller.abort();
  }, [picked]);

  const ready = catalog.state === 'ready' ? catalog.data : null;
  const table = tableOf(ready, state.table);
  const databases = useMemo(() => ready?.databases ?? [], [ready]);
  // A table a newly picked database lacks is no longer offered: the query starts again from the table.
  useEffect(() => {
    if (ready && state.table && (!table || table.missing_from.length > 0)) dispatch({ type: 'table', table: null });
  }, [ready, state.table, table]);
  // Compare starts as the first two databases.
  useEffect(() => {
    if (!databases.includes(state.compareA) && databases[0]) dispatch({ type: 'compare', a: databases[0] });
    if (!databases.includes(state.compareB) && databases[1]) dispatch({ type: 'compare', b: databases[1] });
  }, [databases, state.compareA, state.compareB]);

  const columns = sharedColumns(table);
  const outputs = outputColumns(state, table);
  const spec = specOf(state, table, null);
  // Each step's preview: the spec so far, shown only where the step changed the query.
  const previews = useMemo(() => {
    const out = new Map<Step, QuerySpec>();
    let last = '';
    for (const step of STEPS) {
      const s = specOf(state, table, step);
      const text = JSON.stringify(s);
      if (s && text !== last) out.set(step, s);
      last = text;
    }
    return out;
  }, [state, table]);
  const preview = (step: Step) => <BuilderPreview spec={previews.get(step) ?? null} step={step} />;

  async function act(work: () => Promise<Outcome | null>) {
    setOutcome({ state: 'busy' });
    try {
      const next = await work();
      if (next) setOutcome(next);
    } catch (error) {
      setOutcome({ state: 'error', error });
    }
  }
  const run = () => act(async () => ({ state: 'result', result: await api.runBuild(spec!), run: Date.now() }));
  const viewSql = () => act(async () => ({ state: 'sql', plan: await api.buildSql(spec!) }));
  const openChat = () => act(async () => {
    const plan = await api.buildSql(spec!);
    const session = await api.createSession({
      name: `Builder: ${plan.description}`.slice(0, 120),
      connection_ids: state.mode === 'compare' ? [state.compareA, state.compareB] : state.connections,
    });
    onOpenInChat(session, askFromPlan(plan.description, plan.queries,
      'Built in the Builder: run each statement on its database here, or change it first.'));
    return null;
  });

  return (
    <section className="tab builder" aria-labelledby="builder-title">
      <h2 id="builder-title">Build a query over several databases</h2>
      {loadError !== null && <ErrorNotice error={loadError} />}
      <BuilderStep testid="builder-sources" number={1} title="Sources">
        <BuilderSources connections={connections} groups={groups} health={health} picked={state.connections}
          onToggle={(name) => dispatch({ type: 'toggle-connection', name })} />
      </BuilderStep>
      <BuilderStep testid="builder-table" number={2} title="Table" preview={preview('table')}>
        {catalog.state === 'none' && <p className="muted">Pick one or more sources first.</p>}
        {catalog.state === 'loading' && <p className="muted" aria-busy="true">Reading the databases' schemas…</p>}
        {catalog.state === 'error' && <ErrorNotice error={catalog.error} testid="builder-catalog-error" />}
        {ready && <BuilderTablePicker catalog={ready} table={state.table} onTable={(t) => dispatch({ type: 'table', table: t })} />}
      </BuilderStep>
      {table && (
        <>
          <BuilderStep testid="builder-columns" number={3} title="Columns" preview={preview('columns')}>
            <BuilderColumns table={table} picked={state.columns} summarized={state.summaries.length + state.groups.length > 0}
              onToggle={(name) => dispatch({ type: 'toggle-column', name })} />
          </BuilderStep>
          <BuilderStep testid="builder-filter" number={4} title="Filter" preview={preview('filter')}>
            <BuilderFilter state={state} columns={columns} dispatch={dispatch} />
          </BuilderStep>
          <BuilderStep testid="builder-summarize" number={5} title="Summarize" preview={preview('summarize')}>
            <BuilderSummarize state={state} columns={columns} dispatch={dispatch} />
          </BuilderStep>
          <BuilderStep testid="builder-sort" number={6} title="Sort and limit" preview={preview('sort')}>
            <BuilderSort state={state} outputs={outputs} dispatch={dispatch} />
          </BuilderStep>
          <BuilderStep testid="builder-mode" number={7} title="Mode">
            <BuilderMode state={state} databases={databases} outputs={outputs} dispatch={dispatch} />
          </BuilderStep>
        </>
      )}
      <BuilderActions spec={spec} busy={outcome.state === 'busy'} onRun={run} onViewSql={viewSql} onOpenChat={openChat} />
      {outcome.state === 'busy' && <p className="muted" aria-busy="true">Working…</p>}
      {outcome.state === 'error' && <ErrorNotice error={outcome.error} testid="builder-error" />}
      {outcome.state === 'sql' && <BuilderSql plan={outcome.plan} />}
      {outcome.state === 'result' && (
        <div className="builder-results" data-testid="builder-results" data-mode={outcome.result.mode}>
          <BuilderResults key={outcome.run} result={outcome.result}
            connections={state.mode === 'compare' ? [state.compareA, state.compareB] : state.connections} />
        </div>
      )}
    </section>
  );
}
