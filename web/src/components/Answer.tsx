// One ask's answer: the question, the ask's own error (message and HINT) if it failed, one lane per database
// (a failed one never hides the others), the combined rows (or the combine step's result), a chart, the
// explanation, and — once the answer's message is known — the exports and "Save as report".
import { ApiError } from '../api/client';
import type { SessionRef } from './Lane';
import type { AskState, Lane as LaneData } from '../ask/askReducer';
import { CombinedTable } from './CombinedTable';
import { ErrorNotice } from './ErrorNotice';
import { ExportLinks } from './ExportLinks';
import { Lane } from './Lane';
import { ReportSaveButton } from './ReportSaveButton';
import { ResultChart } from './ResultChart';
import { ResultTable } from './ResultTable';

export function Answer({ ask, messageId, session, onLane }: {
  ask: AskState;
  messageId: number | null;
  session: SessionRef;
  onLane: (lane: LaneData) => void;
}) {
  const withRows = ask.lanes.filter((l) => l.data !== null && l.data.length > 0);
  return (
    <article className="answer" data-testid="answer" data-status={ask.status}
      data-message-id={messageId === null ? undefined : String(messageId)} aria-label={`Question: ${ask.question}`}
      aria-busy={ask.status === 'running'}>
      <p className="question">{ask.question}</p>
      {ask.status === 'running' && <p className="muted" role="status">Running…</p>}
      {ask.status === 'cancelled' && <p className="muted" role="status">Cancelled.</p>}
      {ask.error && ask.status !== 'cancelled' && <ErrorNotice error={errorOf(ask)} testid="answer-error" />}
      <div className="lanes">
        {ask.lanes.map((lane) => (
          <Lane key={lane.database} lane={lane} session={session} messageId={messageId} running={ask.status === 'running'}
            onLane={onLane} />
        ))}
      </div>
      {ask.combine && (
        <section className="combine" aria-label="The combine step's result">
          <h3>Combined by the plan's combine step{ask.combine.ms !== null ? ` (${ask.combine.ms.toFixed(0)} ms)` : ''}</h3>
          {ask.combine.columns.length > 0 || ask.combine.rows.length > 0
            ? <ResultTable testid="combine-result" columns={ask.combine.columns} rows={ask.combine.rows} />
            : <p className="muted">{ask.combine.rowCount} rows</p>}
        </section>
      )}
      {ask.combineError && (
        <div className="error" role="alert" data-testid="combine-error">{ask.combineError.message}</div>
      )}
      {!ask.combine && withRows.length > 1 && <CombinedTable lanes={withRows} />}
      {(ask.combine || withRows.length > 1) && messageId !== null && (
        <p className="exports">Every database's rows: <ExportLinks sessionId={session.id} messageId={messageId} prefix="combined" label="all rows" /></p>
      )}
      {ask.status === 'done' && <ResultChart lanes={withRows} combine={ask.combine} />}
      {ask.explanation && <p className="explanation" data-testid="explanation">{ask.explanation}</p>}
      {messageId !== null && ask.status === 'done' && <ReportSaveButton sessionId={session.id} messageId={messageId} />}
    </article>
  );
}

// The ask's error event carries the gateway's JSON error: shown as any API error is (message, HINT).
function errorOf(ask: AskState) {
  return new ApiError(0, ask.error ?? { message: 'failed' });
}
