// The Schema diff tab: two connections, and the objects whose definitions differ between them
// (GET /api/schema-diff, multidb.schema_diff), each with both definitions side by side.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import type * as T from '../api/types';
import { useConnectionPair } from '../hooks/useConnectionPair';
import { ConnectionSelect } from './ConnectionSelect';
import { DiffObject } from './DiffObject';
import { ErrorNotice } from './ErrorNotice';

type Outcome = { state: 'idle' } | { state: 'running' } | { state: 'error'; error: unknown } | { state: 'done'; result: T.SchemaDiff };

export function SchemaDiffTab() {
  const { connections, a, setA, b, setB } = useConnectionPair();
  const [refresh, setRefresh] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });

  async function run(event: FormEvent) {
    event.preventDefault();
    setOutcome({ state: 'running' });
    try {
      setOutcome({ state: 'done', result: await api.schemaDiffOf(a, b, refresh) });
    } catch (error) {
      setOutcome({ state: 'error', error });
    }
  }

  return (
    <section className="tab schema-diff" aria-labelledby="diff-title">
      <h2 id="diff-title">Compare the schemas of two databases</h2>
      {connections.state === 'loading' && <p className="muted" aria-busy="true">Loading connections…</p>}
      {connections.state === 'error' && <ErrorNotice error={connections.error} testid="diff-error" />}
      <form className="tab-form" onSubmit={run}>
        <div className="field-row">
          <ConnectionSelect label="Database A" testid="diff-a" value={a} onChange={setA}
            connections={connections.state === 'ready' ? connections.data : []} />
          <ConnectionSelect label="Database B" testid="diff-b" value={b} onChange={setB}
            connections={connections.state === 'ready' ? connections.data : []} />
        </div>
        <label className="check">
          <input type="checkbox" data-testid="diff-refresh" checked={refresh} onChange={(e) => setRefresh(e.target.checked)} />
          Read both catalogs anew (not from the schema cache)
        </label>
        <div className="actions">
          <button type="submit" className="primary" data-testid="diff-run" disabled={outcome.state === 'running' || !a || !b}>
            {outcome.state === 'running' ? 'Comparing…' : 'Compare schemas'}
          </button>
        </div>
      </form>
      {outcome.state === 'running' && <p className="muted" aria-busy="true">Reading the catalogs of {a} and {b}…</p>}
      {outcome.state === 'error' && <ErrorNotice error={outcome.error} testid="diff-error" />}
      {outcome.state === 'done' && (
        <div className="diff-results" data-testid="diff-results" data-count={outcome.result.count}>
          <p className="summary" role="status">
            {outcome.result.count === 0
              ? `The schemas of ${outcome.result.a} and ${outcome.result.b} match.`
              : `${outcome.result.count} object${outcome.result.count === 1 ? '' : 's'} differ between ${outcome.result.a} and ${outcome.result.b}.`}
          </p>
          {outcome.result.differences.map((d) => (
            <DiffObject key={`${d.object_kind} ${d.object_name}`} difference={d} a={outcome.result.a} b={outcome.result.b} />
          ))}
        </div>
      )}
    </section>
  );
}
