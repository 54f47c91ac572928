// The Compare tab: two connections, a query run on both and the key columns that pair their rows
// (POST /api/compare, multidb.compare); shows the rows only in A, only in B, and the pairs that differ.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import type * as T from '../api/types';
import { useConnectionPair } from '../hooks/useConnectionPair';
import { CompareResults } from './CompareResults';
import { ConnectionSelect } from './ConnectionSelect';
import { ErrorNotice } from './ErrorNotice';

type Outcome = { state: 'idle' } | { state: 'running' } | { state: 'error'; error: unknown } | { state: 'done'; result: T.CompareResult };

export function CompareTab() {
  const { connections, a, setA, b, setB } = useConnectionPair();
  const [sql, setSql] = useState('');
  const [keys, setKeys] = useState('');
  const [columns, setColumns] = useState<'same' | 'common'>('same');
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });

  async function run(event: FormEvent) {
    event.preventDefault();
    setOutcome({ state: 'running' });
    const key = keys.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const body: T.CompareRequest = { sql, a, b, columns };
    if (key.length > 0) body.key = key;
    try {
      setOutcome({ state: 'done', result: await api.compareRows(body) });
    } catch (error) {
      setOutcome({ state: 'error', error });
    }
  }

  return (
    <section className="tab compare" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare rows of two databases</h2>
      {connections.state === 'loading' && <p className="muted" aria-busy="true">Loading connections…</p>}
      {connections.state === 'error' && <ErrorNotice error={connections.error} testid="compare-error" />}
      <form className="tab-form" onSubmit={run}>
        <div className="field-row">
          <ConnectionSelect label="Database A" testid="compare-a" value={a} onChange={setA}
            connections={connections.state === 'ready' ? connections.data : []} />
          <ConnectionSelect label="Database B" testid="compare-b" value={b} onChange={setB}
            connections={connections.state === 'ready' ? connections.data : []} />
        </div>
        <label className="field">
          <span>Query run on both</span>
          <textarea data-testid="compare-sql" rows={4} value={sql} required spellCheck={false}
            placeholder="SELECT id, customer, amount FROM orders" onChange={(e) => setSql(e.target.value)} />
        </label>
        <div className="field-row">
          <label className="field">
            <span>Key columns (comma-separated)</span>
            <input data-testid="compare-keys" value={keys} placeholder="id" onChange={(e) => setKeys(e.target.value)} />
          </label>
          <label className="field">
            <span>Columns</span>
            <select data-testid="compare-columns" value={columns} onChange={(e) => setColumns(e.target.value as 'same' | 'common')}>
              <option value="same">must be the same on both</option>
              <option value="common">compare the common ones</option>
            </select>
          </label>
        </div>
        <div className="actions">
          <button type="submit" className="primary" data-testid="compare-run"
            disabled={outcome.state === 'running' || !a || !b || !sql.trim()}>
            {outcome.state === 'running' ? 'Comparing…' : 'Compare'}
          </button>
        </div>
      </form>
      {outcome.state === 'running' && <p className="muted" aria-busy="true">Running the query on {a} and {b}…</p>}
      {outcome.state === 'error' && <ErrorNotice error={outcome.error} testid="compare-error" />}
      {outcome.state === 'done' && <CompareResults result={outcome.result} />}
    </section>
  );
}
