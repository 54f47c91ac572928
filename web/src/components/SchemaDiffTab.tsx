// The schema diff tab (to be built).
export function SchemaDiffTab() {
  return <section className="placeholder" aria-label="schema diff">The schema diff tab comes next.</section>;
}
