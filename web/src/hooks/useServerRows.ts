// One page (100 rows) of a past answer's rows, read from the server (GET .../messages/{m}/results?offset=&limit=):
// the page shown, where it starts, and a way to ask for the page at another offset. Only the shown page is held;
// each page is a request (the server runs the plan again), so nothing is read before a table asks.
import { useState } from 'react';
import * as api from '../api/client';
import type { Row } from '../ask/askReducer';
import { useLoad, type Load } from './useLoad';

export const SERVER_PAGE = 100;

// The page that arrived keeps its own offset: while the next one loads, the table still shows the last page
// with its own numbers (and `busy`), never old rows under the new page's numbers.
export interface RowsPage { offset: number; rows: Row[] }

export function useServerRows(sessionId: string, messageId: number, database?: string): {
  load: Load<RowsPage>;
  busy: boolean;
  setOffset: (offset: number) => void;
} {
  const [offset, setOffset] = useState(0);
  const [load] = useLoad(
    () => api.messageRowsPage(sessionId, messageId, offset, SERVER_PAGE, database)
      .then((page) => ({ offset, rows: page.map((r) => (r.row ?? {}) as Row) })),
    [sessionId, messageId, database, offset],
  );
  return { load, busy: load.state !== 'ready' || load.data.offset !== offset, setOffset };
}
