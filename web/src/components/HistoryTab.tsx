// The history tab (to be built).
export function HistoryTab() {
  return <section className="placeholder" aria-label="history">The history tab comes next.</section>;
}
