// The reports tab (to be built).
export function ReportsTab() {
  return <section className="placeholder" aria-label="reports">The reports tab comes next.</section>;
}
