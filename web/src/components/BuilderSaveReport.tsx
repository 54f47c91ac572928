// "Save as report" for a built query: a name, then POST /api/reports with the spec (compiled again at each run,
// so the report follows the databases' schemas); its error is shown as the API gave it.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import type { QuerySpec } from '../api/types';
import { ErrorNotice } from './ErrorNotice';

export function BuilderSaveReport({ spec }: { spec: QuerySpec | null }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!spec) return;
    setBusy(true);
    setError(null);
    try {
      const report = await api.saveReport({ name: name.trim(), spec });
      setSaved(report.name);
      setOpen(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="builder-save">
      {!open && (
        <button type="button" data-testid="builder-save-report" disabled={!spec} onClick={() => { setOpen(true); setSaved(null); }}>
          Save as report
        </button>
      )}
      {open && (
        <form className="builder-row" onSubmit={save}>
          <label className="inline">Report name
            <input data-testid="builder-report-name" value={name} required onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" className="primary" data-testid="builder-report-save-confirm" disabled={busy || !name.trim()}>Save</button>
          <button type="button" onClick={() => setOpen(false)}>Cancel</button>
        </form>
      )}
      {saved && <p role="status" data-testid="builder-report-saved">Saved as report “{saved}”: the Reports tab runs it.</p>}
      {error !== null && <ErrorNotice error={error} testid="builder-error" />}
    </div>
  );
}
