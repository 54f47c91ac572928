// "Save as report": the plan this answer ran, frozen under a name (POST /api/reports with the session and the
// message), to be run again and scheduled from the Reports tab.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import { ErrorNotice } from './ErrorNotice';

export function ReportSaveButton({ sessionId, messageId }: { sessionId: string; messageId: number }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const report = await api.saveReport({ name: name.trim(), chat_session_id: sessionId, message_id: messageId });
      setSaved(report.name);
      setOpen(false);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div className="report-save">
      {!open && <button data-testid="report-save" type="button" onClick={() => setOpen(true)}>Save as report</button>}
      {open && (
        <form onSubmit={save}>
          <input data-testid="report-name" aria-label="Report name" value={name} autoFocus required
            onChange={(e) => setName(e.target.value)} />
          <button data-testid="report-save-confirm" type="submit" className="primary" disabled={!name.trim()}>Save</button>
          <button type="button" onClick={() => setOpen(false)}>Cancel</button>
        </form>
      )}
      {saved && <span role="status" className="muted">Saved as report “{saved}”.</span>}
      {error !== null && <ErrorNotice error={error} />}
    </div>
  );
}
