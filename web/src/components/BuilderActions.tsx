// What a person does with the built query: run it, see its SQL, open it in a chat session, save it as a report.
import type { QuerySpec } from '../api/types';
import { BuilderSaveReport } from './BuilderSaveReport';

export function BuilderActions({ spec, busy, onRun, onViewSql, onOpenChat }: {
  spec: QuerySpec | null;
  busy: boolean;
  onRun: () => void;
  onViewSql: () => void;
  onOpenChat: () => void;
}) {
  return (
    <div className="builder-actions">
      <div className="buttons">
        <button type="button" className="primary" data-testid="builder-run" disabled={!spec || busy} onClick={onRun}>Run</button>
        <button type="button" data-testid="builder-view-sql" disabled={!spec || busy} onClick={onViewSql}>View SQL</button>
        <button type="button" data-testid="builder-open-chat" disabled={!spec || busy} onClick={onOpenChat}>Open in chat</button>
      </div>
      <BuilderSaveReport spec={spec} />
    </div>
  );
}
