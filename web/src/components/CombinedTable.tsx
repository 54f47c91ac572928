// Every lane's rows in one table, each row with the database it came from (source_db) first.
import { useMemo } from 'react';
import type { Column } from '../api/types';
import type { Lane, Row } from '../ask/askReducer';
import { ResultTable } from './ResultTable';

export function CombinedTable({ lanes }: { lanes: Lane[] }) {
  const { columns, rows } = useMemo(() => {
    const cols: Column[] = [{ name: 'source_db', type: 'string' }];
    const seen = new Set(['source_db']);
    const all: Row[] = [];
    for (const lane of lanes) {
      const names = lane.columns?.length ? lane.columns : Object.keys(lane.data?.[0] ?? {}).map((name) => ({ name, type: 'mixed' }));
      for (const c of names) if (!seen.has(c.name)) { seen.add(c.name); cols.push(c); }
      for (const row of lane.data ?? []) all.push({ source_db: lane.database, ...row });
    }
    return { columns: cols, rows: all };
  }, [lanes]);
  return (
    <section className="combined" aria-label="Every database's rows">
      <h3>Every database's rows</h3>
      <ResultTable testid="combined-table" columns={columns} rows={rows} label="Every database's rows" />
    </section>
  );
}
