// A step's preview: the query as far as that step, run in fanout mode with a limit of 5 (POST /api/build), once
// the person stops changing it; the first rows of each database in a small table, or its error.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import type { BuildResult, QuerySpec } from '../api/types';
import type { Row } from '../ask/askReducer';
import { useDebounced } from '../hooks/useDebounced';
import { ErrorNotice } from './ErrorNotice';
import { ResultTable } from './ResultTable';

type Preview = { state: 'idle' } | { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; result: BuildResult };

export function BuilderPreview({ spec, step }: { spec: QuerySpec | null; step: string }) {
  const key = useDebounced(spec === null ? null : JSON.stringify(spec), 300);
  const [preview, setPreview] = useState<Preview>({ state: 'idle' });
  useEffect(() => {
    if (key === null) { setPreview({ state: 'idle' }); return; }
    const controller = new AbortController();
    setPreview({ state: 'loading' });
    api.runBuild(JSON.parse(key) as QuerySpec, controller.signal).then(
      // An answer to a spec since changed is dropped: it would show the rows of a query no longer built.
      (result) => { if (!controller.signal.aborted) setPreview({ state: 'ready', result }); },
      (error: unknown) => { if (!controller.signal.aborted) setPreview({ state: 'error', error }); },
    );
    return () => controller.abort();
  }, [key]);

  if (preview.state === 'idle') return null;
  return (
    <div className="builder-previews" aria-label={`Preview of the ${step} step`} aria-busy={preview.state === 'loading'}>
      {preview.state === 'loading' && <p className="muted">Previewing…</p>}
      {preview.state === 'error' && <ErrorNotice error={preview.error} testid="builder-preview-error" />}
      {preview.state === 'ready' && 'database_results' in preview.result && preview.result.database_results.map((r) => (
        <div key={r.connection_name} className="builder-preview" data-testid="builder-preview" data-step={step}
          data-database={r.connection_name}>
          <h4>{r.connection_name}</h4>
          {r.error
            ? <p className="error" role="alert">{String((r.error as { message?: unknown }).message ?? 'failed')}</p>
            : <ResultTable testid="builder-preview-rows" columns={r.columns} rows={(r.rows as Row[]).slice(0, 5)}
                database={r.connection_name} label={`First rows of ${r.connection_name}`} />}
        </div>
      ))}
    </div>
  );
}
