// The tabs of the signed-in app (a WAI-ARIA tablist: arrow keys move between tabs).
import type { KeyboardEvent } from 'react';

export type TabName = 'chat' | 'builder' | 'compare' | 'schema-diff' | 'reports' | 'history';
const TABS: { name: TabName; label: string }[] = [
  { name: 'chat', label: 'Chat' },
  { name: 'builder', label: 'Builder' },
  { name: 'compare', label: 'Compare' },
  { name: 'schema-diff', label: 'Schema diff' },
  { name: 'reports', label: 'Reports' },
  { name: 'history', label: 'History' },
];

export function TabBar({ current, onChange }: { current: TabName; onChange: (tab: TabName) => void }) {
  function onKeyDown(event: KeyboardEvent) {
    const i = TABS.findIndex((t) => t.name === current);
    if (event.key === 'ArrowRight') onChange(TABS[(i + 1) % TABS.length]!.name);
    else if (event.key === 'ArrowLeft') onChange(TABS[(i + TABS.length - 1) % TABS.length]!.name);
    else return;
    event.preventDefault();
  }
  return (
    <nav className="tabs" role="tablist" aria-label="Views" onKeyDown={onKeyDown}>
      {TABS.map((t) => (
        <button key={t.name} type="button" role="tab" id={`tab-${t.name}`} data-testid={`tab-${t.name}`}
          aria-selected={t.name === current} tabIndex={t.name === current ? 0 : -1}
          onClick={() => onChange(t.name)}>{t.label}</button>
      ))}
    </nav>
  );
}
