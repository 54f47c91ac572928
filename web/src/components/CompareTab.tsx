// The compare tab (to be built).
export function CompareTab() {
  return <section className="placeholder" aria-label="compare">The compare tab comes next.</section>;
}
