// The question box: Enter asks, Shift+Enter starts a new line, Escape cancels the running ask; Send and Cancel
// buttons do the same.
import { useState, type KeyboardEvent } from 'react';

export function QuestionBox({ running, onAsk, onCancel }: {
  running: boolean;
  onAsk: (question: string) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState('');
  const send = () => {
    const question = text.trim();
    if (!question || running) return;
    onAsk(question);
    setText('');
  };
  const keys = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape' && running) {
      e.preventDefault();
      onCancel();
    }
  };
  return (
    <form className="question-box" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <textarea data-testid="question-input" aria-label="Question" rows={2} value={text}
        placeholder="Ask about your databases (Enter sends, Shift+Enter: new line, Escape cancels)"
        onChange={(e) => setText(e.target.value)} onKeyDown={keys} />
      <div className="buttons">
        <button data-testid="ask-send" type="submit" className="primary" disabled={running || !text.trim()}>Ask</button>
        <button data-testid="ask-cancel" type="button" disabled={!running} onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
