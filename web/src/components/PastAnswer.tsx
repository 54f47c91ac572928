// A question and answer from before this page opened the session (GET messages): the question, the answer's
// text, and, when the ask ran a plan, its rows as CSV or JSON (the results route runs the plan again).
import type { Message } from '../api/types';
import { ExportLinks } from './ExportLinks';

export function PastAnswer({ sessionId, question, answer }: { sessionId: string; question: Message; answer: Message | null }) {
  const withRows = answer && answer.query_history_id != null ? answer : null;
  return (
    <article className="answer past" data-testid="answer" data-status="done"
      data-message-id={withRows ? String(withRows.id) : undefined} aria-label={`Question: ${question.content}`}>
      {question.content && <p className="question">{question.content}</p>}
      {answer && <p className="explanation" data-testid="explanation">{answer.content}</p>}
      {withRows && <ExportLinks sessionId={sessionId} messageId={withRows.id} prefix="combined" label="all rows" />}
    </article>
  );
}
