// A report's schedule: the one pg_cron has (the report's `schedule`), a cron expression sent to
// PUT /api/reports/{name}/schedule, and Unschedule. Whether scheduling can work here comes from
// GET /api/reports/scheduling: where it cannot (no pg_cron, or pg_cron unable to run the caller's job) the form
// gives way to the API's reason and HINT. A refusal of PUT with feature_not_supported does the same.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import { ApiError } from '../api/client';
import type * as T from '../api/types';
import { useLoad } from '../hooks/useLoad';
import { ErrorNotice } from './ErrorNotice';

const NOT_SUPPORTED = '0A000';

export function ReportSchedule({ report, onChanged }: { report: T.Report; onChanged: () => void }) {
  const [scheduling] = useLoad(api.reportScheduling, []);
  const [cron, setCron] = useState(report.schedule ?? '0 6 * * *');
  // What this page set last (undefined: nothing yet, so the report's own schedule is the one shown).
  const [set, setSet] = useState<string | null | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [refused, setRefused] = useState<ApiError | null>(null);

  async function act(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.body.sqlstate === NOT_SUPPORTED) setRefused(e);
      else setError(e);
    } finally {
      setBusy(false);
    }
  }

  const save = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => { setSet((await api.setReportSchedule(report.name, cron)).schedule); });
  };
  const unschedule = () => void act(async () => { await api.clearReportSchedule(report.name); setSet(null); });

  if (scheduling.state === 'loading') return <p className="muted" aria-busy="true">Checking whether reports can be scheduled here…</p>;
  const unavailable = refused ?? (scheduling.state === 'ready' && !scheduling.data.available
    ? new ApiError(400, scheduling.data.error ?? { message: 'scheduling is not available here' }) : null);
  if (unavailable) {
    return (
      <div className="schedule" data-testid="report-schedule" data-available="false">
        <p>Reports cannot be scheduled here:</p>
        <ErrorNotice error={unavailable} testid="report-error" />
      </div>
    );
  }
  const current = set === undefined ? report.schedule ?? null : set;
  return (
    <div className="schedule" data-testid="report-schedule" data-available="true" data-scheduled={current ?? ''}>
      {scheduling.state === 'error' && <ErrorNotice error={scheduling.error} testid="report-error" />}
      <p role="status" data-testid={current ? 'report-schedule-status' : undefined}>
        {current ? <>Runs on the schedule <code>{current}</code> (pg_cron).</> : 'Not scheduled.'}
      </p>
      <form className="field-row" onSubmit={save}>
        <label className="field">
          <span>Cron schedule (minute hour day month weekday)</span>
          <input data-testid="report-schedule-cron" value={cron} required spellCheck={false}
            onChange={(e) => setCron(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" data-testid="report-schedule-save" disabled={busy || !cron.trim()}>
            {current ? 'Change schedule' : 'Schedule'}
          </button>
          <button type="button" data-testid="report-unschedule" disabled={busy || !current} onClick={unschedule}>Unschedule</button>
        </div>
      </form>
      {error !== null && <ErrorNotice error={error} testid="report-error" />}
    </div>
  );
}
