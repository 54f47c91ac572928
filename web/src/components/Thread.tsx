// A session's conversation: its past questions and answers (GET messages, restored when the session opens), then
// the asks made here, each streamed live (the ask's events through askReducer), and the question box. Cancel
// (button or Escape) both closes the stream and DELETEs the run, so the coordinator stops at once. `seed`: an
// answer made elsewhere (the Builder's statements) shown first, its lanes run here.
import { useCallback, useEffect, useRef, useState } from 'react';
import * as api from '../api/client';
import { ApiError } from '../api/client';
import type { Message, Session } from '../api/types';
import { askReducer, cancelAsk, startAsk, type AskState, type Lane } from '../ask/askReducer';
import { Answer } from './Answer';
import { ErrorNotice } from './ErrorNotice';
import { PastAnswer } from './PastAnswer';
import { QuestionBox } from './QuestionBox';

interface LiveAsk {
  key: number;
  state: AskState;
  messageId: number | null;
}

// The message an answered ask left: the one pointing at its history row (the assistant's, else any).
function messageOf(messages: Message[], historyId: number | null): number | null {
  if (historyId === null) return null;
  const hits = messages.filter((m) => m.query_history_id === historyId);
  return (hits.find((m) => m.role === 'assistant') ?? hits[hits.length - 1])?.id ?? null;
}

export function Thread({ session, seed }: { session: Session; seed?: AskState | null }) {
  const [past, setPast] = useState<Message[] | null>(null);
  const [asks, setAsks] = useState<LiveAsk[]>(seed ? [{ key: 0, state: seed, messageId: null }] : []);
  const [error, setError] = useState<unknown>(null);
  const running = useRef<{ controller: AbortController; runId: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const nextKey = useRef(1);

  useEffect(() => {
    let live = true;
    api.listMessages(session.id).then((m) => live && setPast(m), (e) => live && setError(e));
    return () => {
      live = false;
      running.current?.controller.abort(); // leaving the session ends its ask
    };
  }, [session.id]);

  const update = useCallback((key: number, change: (a: LiveAsk) => LiveAsk) => {
    setAsks((all) => all.map((a) => (a.key === key ? change(a) : a)));
  }, []);

  const ask = useCallback(async (question: string) => {
    if (running.current) return;
    const key = nextKey.current++;
    const controller = new AbortController();
    const run = { controller, runId: null as string | null };
    running.current = run;
    setBusy(true);
    let state = startAsk(question);
    setAsks((all) => [...all, { key, state, messageId: null }]);
    try {
      for await (const event of api.askInSession(session.id, question, controller.signal)) {
        if (event.event === 'run') run.runId = (event.data as { run_id?: string }).run_id ?? null;
        state = askReducer(state, event);
        const now = state;
        update(key, (a) => ({ ...a, state: now }));
      }
      if (state.status === 'running') state = cancelAsk(state); // the stream ended with no last event
    } catch (e) {
      state = controller.signal.aborted ? cancelAsk(state)
        : { ...state, status: 'error', error: e instanceof ApiError ? e.body : { message: String(e instanceof Error ? e.message : e) } };
    } finally {
      running.current = null;
      setBusy(false);
    }
    const final = state;
    update(key, (a) => ({ ...a, state: final }));
    if (final.queryHistoryId !== null) {
      try {
        const messageId = messageOf(await api.listMessages(session.id), final.queryHistoryId);
        update(key, (a) => ({ ...a, messageId }));
      } catch {
        // without the message id the export links and "Save as report" stay hidden; the answer is all there
      }
    }
  }, [session.id, update]);

  const cancel = useCallback(() => {
    const run = running.current;
    if (!run) return;
    if (run.runId) api.cancelRun(run.runId).catch(() => undefined); // 404: it had just ended
    run.controller.abort();
  }, []);

  // Past messages in pairs: a question, then the answer that followed it.
  const pairs: { question: Message; answer: Message | null }[] = [];
  for (const m of past ?? []) {
    if (m.role === 'user') pairs.push({ question: m, answer: null });
    else if (pairs.length && pairs[pairs.length - 1].answer === null) pairs[pairs.length - 1].answer = m;
    else pairs.push({ question: { ...m, content: '' }, answer: m });
  }

  return (
    <div className="thread">
      {error !== null && <ErrorNotice error={error} />}
      <ol className="answers" aria-label="Questions and answers">
        {pairs.map((p) => (
          <li key={'past-' + p.question.id + '-' + (p.answer?.id ?? '')}>
            <PastAnswer session={session} question={p.question} answer={p.answer} />
          </li>
        ))}
        {asks.map((a) => (
          <li key={a.key}>
            <Answer ask={a.state} messageId={a.messageId} session={session}
              onLane={(lane: Lane) => update(a.key, (x) => ({
                ...x,
                state: {
                  ...x.state,
                  lanes: x.state.lanes.some((l) => l.database === lane.database)
                    ? x.state.lanes.map((l) => (l.database === lane.database ? lane : l))
                    : [...x.state.lanes, lane],
                },
              }))} />
          </li>
        ))}
      </ol>
      {past !== null && pairs.length === 0 && asks.length === 0 && (
        <p className="muted">Ask a question about {session.connection_ids.join(', ')}.</p>
      )}
      <QuestionBox running={busy} onAsk={ask} onCancel={cancel} />
    </div>
  );
}
