// A question and answer from before this page opened the session (GET messages): the question, the answer's
// text, its rows as CSV or JSON, and — once the person asks for them ("Show rows") — its lanes and rows read
// from the API, so opening a session with many past answers runs nothing on the databases.
import { useState } from 'react';
import type { Message, Session } from '../api/types';
import { ExportLinks } from './ExportLinks';
import { PastAnswerRows } from './PastAnswerRows';

export function PastAnswer({ session, question, answer }: { session: Session; question: Message; answer: Message | null }) {
  const [open, setOpen] = useState(false);
  const withRows = answer && answer.query_history_id != null ? answer : null;
  return (
    <article className="answer past" data-testid="answer" data-status="done"
      data-message-id={withRows ? String(withRows.id) : undefined} aria-label={`Question: ${question.content}`}>
      {question.content && <p className="question">{question.content}</p>}
      {withRows && !open && (
        <button type="button" data-testid="past-rows-show" onClick={() => setOpen(true)}>Show rows</button>
      )}
      {withRows && open && withRows.query_history_id != null && (
        <PastAnswerRows session={session} messageId={withRows.id} historyId={withRows.query_history_id} />
      )}
      {answer && <p className="explanation" data-testid="explanation">{answer.content}</p>}
      {withRows && <ExportLinks sessionId={session.id} messageId={withRows.id} prefix="combined" label="all rows" />}
    </article>
  );
}
