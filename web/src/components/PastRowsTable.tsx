// A past answer's rows for one database (or, without one, the plan's combined rows), paged through the server:
// each page is GET .../results?offset=&limit=100, shown in the result table's usual look.
import { useServerRows } from '../hooks/useServerRows';
import { ErrorNotice } from './ErrorNotice';
import { ResultTable } from './ResultTable';

export function PastRowsTable({ sessionId, messageId, database, total, testid }: {
  sessionId: string;
  messageId: number;
  database?: string;
  total: number | null;
  testid?: string;
}) {
  const { load, busy, setOffset } = useServerRows(sessionId, messageId, database);
  if (load.state === 'loading') return <p className="muted" role="status">Loading rows…</p>;
  if (load.state === 'error') return <ErrorNotice error={load.error} />;
  return (
    <ResultTable columns={[]} rows={load.data.rows} database={database} testid={testid}
      server={{ offset: load.data.offset, total, busy, onOffset: setOffset }} />
  );
}
