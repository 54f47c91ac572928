// One side of a differing schema object: the database's definition, line by line, the lines the other side
// lacks marked (data-changed="true"); "Not in …" when the object is not there at all.
import type { DiffLine } from '../lib/lineDiff';

export function DiffDefinition({ side, database, lines, absent }: {
  side: 'a' | 'b'; database: string; lines: DiffLine[]; absent: boolean;
}) {
  return (
    <figure className="definition" data-testid={`diff-definition-${side}`} data-absent={absent ? 'true' : undefined}>
      <figcaption>{database}</figcaption>
      {absent ? <p className="muted">Not in {database}.</p> : (
        <pre tabIndex={0} aria-label={`definition in ${database}`}>
          {lines.map((l, i) => (
            <span key={i} className={l.changed ? 'line changed' : 'line'} data-changed={l.changed ? 'true' : undefined}>
              {l.changed ? <span className="sr-only">differs: </span> : null}{l.text}{'\n'}
            </span>
          ))}
        </pre>
      )}
    </figure>
  );
}
