// SQL shown read-only: a CodeMirror 6 view with SQL highlighting, wrapped lines, selectable and copyable but
// not editable (a plan in History, a report's SQL). The editable editor of the chat is another component.
import { useEffect, useRef } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { sql } from '@codemirror/lang-sql';

export function SqlView({ text, label, testid }: { text: string; label: string; testid?: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const view = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: text,
        extensions: [
          sql(),
          syntaxHighlighting(defaultHighlightStyle),
          EditorState.readOnly.of(true),
          EditorView.editable.of(false),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label, 'aria-readonly': 'true' }),
        ],
      }),
    });
    return () => view.destroy();
  }, [text, label]);
  return <div className="sql-view" ref={host} data-testid={testid} data-sql={text} />;
}
