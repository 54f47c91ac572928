// One object that differs between two schemas: its kind, name and what differs, then A's and B's definitions
// side by side (stacked on a phone), the lines that are not in the other one marked.
import { useMemo } from 'react';
import type * as T from '../api/types';
import { lineDiff } from '../lib/lineDiff';
import { DiffDefinition } from './DiffDefinition';

type Difference = T.SchemaDiff['differences'][number];

export function DiffObject({ difference, a, b }: { difference: Difference; a: string; b: string }) {
  const da = difference.a_definition ?? null, db = difference.b_definition ?? null;
  const lines = useMemo(() => lineDiff(da ?? '', db ?? ''), [da, db]);
  const title = `${difference.object_kind} ${difference.object_name}`;
  return (
    <article className="diff-object" data-testid="diff-object" data-kind={difference.object_kind}
      data-name={difference.object_name} aria-label={title}>
      <h3><span className="kind">{difference.object_kind}</span> {difference.object_name}</h3>
      <p className="difference">{difference.difference}</p>
      <div className="side-by-side">
        <DiffDefinition side="a" database={a} lines={da === null ? [] : lines.a} absent={da === null} />
        <DiffDefinition side="b" database={b} lines={db === null ? [] : lines.b} absent={db === null} />
      </div>
    </article>
  );
}
