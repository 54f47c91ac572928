// One step of the Builder: a titled, numbered section, its controls, then the preview of the query as far as it.
import type { ReactNode } from 'react';

export function BuilderStep({ testid, number, title, children, preview }: {
  testid: string; number: number; title: string; children: ReactNode; preview?: ReactNode;
}) {
  return (
    <section className="builder-step" data-testid={testid} aria-labelledby={`${testid}-title`}>
      <h3 id={`${testid}-title`}><span className="step-number">{number}</span> {title}</h3>
      <div className="builder-controls">{children}</div>
      {preview}
    </section>
  );
}
