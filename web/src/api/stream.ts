// A POST whose answer is Server-Sent Events (an ask in a session), read with fetch and a stream reader (the
// browser's EventSource only does GET). Yields each event as {event, data}; data is parsed JSON. Aborting the
// signal closes the stream, which the gateway takes as a cancel of the ask.
import { errorFrom } from './client';

export interface StreamEvent {
  event: string;
  data: unknown;
}

// Bounds what one event may hold, so a hostile or broken server cannot grow the page's memory without end.
const MAX_EVENT_BYTES = 64 * 1024 * 1024;

export async function* postEventStream(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', 'X-Multidb-CSRF': '1' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await errorFrom(response);
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      if (buffer.length > MAX_EVENT_BYTES) throw new Error('an event from the server is larger than 64 MB');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const parsed = parseBlock(block);
        if (parsed) yield parsed;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

// One event's lines: "event: name", "data: ...", comments (": keep-alive") ignored.
function parseBlock(block: string): StreamEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}
