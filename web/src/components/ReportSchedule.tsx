// A report's schedule: a cron expression sent to PUT /api/reports/{name}/schedule (pg_cron), and Unschedule.
// Where pg_cron is missing the API refuses with feature_not_supported and a HINT: the form gives way to that
// reason. The API does not say a report's current schedule, so only one set here is shown.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import { ApiError } from '../api/client';
import { ErrorNotice } from './ErrorNotice';

const NOT_SUPPORTED = '0A000';

export function ReportSchedule({ report }: { report: string }) {
  const [cron, setCron] = useState('0 6 * * *');
  const [scheduled, setScheduled] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [unavailable, setUnavailable] = useState<ApiError | null>(null);

  async function act(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      if (e instanceof ApiError && e.body.sqlstate === NOT_SUPPORTED) setUnavailable(e);
      else setError(e);
    } finally {
      setBusy(false);
    }
  }

  const save = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => { setScheduled((await api.setReportSchedule(report, cron)).schedule); });
  };
  const unschedule = () => void act(async () => { await api.clearReportSchedule(report); setScheduled(null); });

  if (unavailable) {
    return (
      <div className="schedule" data-testid="report-schedule" data-available="false">
        <p>Scheduling is not available here:</p>
        <ErrorNotice error={unavailable} testid="report-error" />
      </div>
    );
  }
  return (
    <div className="schedule" data-testid="report-schedule" data-available="unknown" data-scheduled={scheduled ?? ''}>
      <form className="field-row" onSubmit={save}>
        <label className="field">
          <span>Cron schedule (minute hour day month weekday)</span>
          <input data-testid="report-schedule-cron" value={cron} required spellCheck={false}
            onChange={(e) => setCron(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" data-testid="report-schedule-save" disabled={busy || !cron.trim()}>Schedule</button>
          <button type="button" data-testid="report-unschedule" disabled={busy} onClick={unschedule}>Unschedule</button>
        </div>
      </form>
      {scheduled !== null && <p role="status" data-testid="report-schedule-status">Runs on the schedule <code>{scheduled}</code>.</p>}
      {error !== null && <ErrorNotice error={error} testid="report-error" />}
    </div>
  );
}
