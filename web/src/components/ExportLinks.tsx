// Links that download an answer's rows as CSV or JSON from the API (GET .../messages/{m}/results?format=…), for
// one database (a lane) or all of them.
import * as api from '../api/client';

export function ExportLinks({ sessionId, messageId, database, prefix, label }: {
  sessionId: string;
  messageId: number;
  database?: string;
  prefix: 'lane' | 'combined';
  label: string;
}) {
  return (
    <span className="export">
      <a data-testid={`${prefix}-export-csv`} href={api.messageResultsUrl(sessionId, messageId, 'csv', database)}
        download aria-label={`Download ${label} as CSV`}>CSV</a>
      <a data-testid={`${prefix}-export-json`} href={api.messageResultsUrl(sessionId, messageId, 'json', database)}
        download aria-label={`Download ${label} as JSON`}>JSON</a>
    </span>
  );
}
