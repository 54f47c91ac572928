// A fanout or totals run of the Builder as the chat's Answer shows an ask: the multi-query answer read by the
// same reducer, no message behind it (so no export links or "Save as report" of a message: the Builder saves
// the spec itself).
import { useMemo, useState } from 'react';
import type { BuildRowsResult } from '../api/types';
import { applyResult, startAsk, type Lane as LaneData } from '../ask/askReducer';
import { Answer } from './Answer';

export function BuilderAnswer({ result, connections }: { result: BuildRowsResult; connections: string[] }) {
  const initial = useMemo(() => applyResult(startAsk(result.question), result), [result]);
  // A lane run again here ("Run on this database") replaces that lane, as in the chat.
  const [lanes, setLanes] = useState<Record<string, LaneData>>({});
  const ask = { ...initial, lanes: initial.lanes.map((l) => lanes[l.database] ?? l) };
  return (
    <Answer ask={ask} messageId={null} session={{ id: '', connection_ids: connections }}
      onLane={(lane) => setLanes((all) => ({ ...all, [lane.database]: lane }))} />
  );
}
