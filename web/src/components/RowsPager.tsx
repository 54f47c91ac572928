// The page controls under a table of the tabs: previous, "rows 1–100 of 10,000", next. Pages are 100 rows.
export const PAGE_SIZE = 100;

export function RowsPager({ page, total, onPage, label }: {
  page: number; total: number; onPage: (page: number) => void; label: string;
}) {
  if (total <= PAGE_SIZE) return null;
  const last = Math.ceil(total / PAGE_SIZE) - 1;
  const from = page * PAGE_SIZE + 1;
  const to = Math.min(total, (page + 1) * PAGE_SIZE);
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    <nav className="pager" aria-label={`pages of ${label}`}>
      <button type="button" data-testid="page-prev" disabled={page === 0} onClick={() => onPage(page - 1)}
        aria-label={`previous page of ${label}`}>‹ Previous</button>
      <span data-testid="page-info" aria-live="polite">rows {n(from)}–{n(to)} of {n(total)}</span>
      <button type="button" data-testid="page-next" disabled={page >= last} onClick={() => onPage(page + 1)}
        aria-label={`next page of ${label}`}>Next ›</button>
    </nav>
  );
}
