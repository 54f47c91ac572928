// The chat tab (to be built).
export function ChatTab() {
  return <section className="placeholder" aria-label="chat">The chat tab comes next.</section>;
}
