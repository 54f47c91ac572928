// An error as a person should see it: the server's message, then its HINT (and the database it names), in a
// role=alert region (data-field: the request's member at fault, when the API names one); never a stack.
// Anything that is not an ApiError shows its message.
import { ApiError } from '../api/client';

export function ErrorNotice({ error, testid }: { error: unknown; testid?: string }) {
  const body = error instanceof ApiError ? error.body : { message: error instanceof Error ? error.message : String(error) };
  const hint = 'hint' in body ? body.hint : null;
  const database = 'database' in body ? body.database : null;
  // A query spec's error names the spec's member at fault (filter.and[1].op), so a form can point at it.
  const field = 'field' in body ? body.field : undefined;
  return (
    <div className="error" role="alert" data-testid={testid} data-field={field}>
      <span className="error-message">{body.message}</span>
      {database ? <span className="error-database"> (database {database})</span> : null}
      {hint ? <span className="error-hint" data-testid="error-hint">HINT: {hint}</span> : null}
    </div>
  );
}
