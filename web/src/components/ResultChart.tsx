// A chart of an answer when its rows have a label column (the first text column) and numeric columns: one
// series per database (per source_db for the combine step's rows), bars or lines, for the measure picked.
// Only the Chart.js pieces used are registered (the rest is left out of the bundle); the chart is destroyed
// when the answer goes.
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
} from 'chart.js';
import type { Column } from '../api/types';
import type { Combined, Lane, Row } from '../ask/askReducer';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

const COLOURS = ['#2456c7', '#c2410c', '#15803d', '#7e22ce', '#b45309', '#0e7490', '#be123c', '#4d7c0f'];

interface Series { name: string; rows: Row[] }

function shapeOf(columns: Column[], rows: Row[]) {
  const typeOf = (c: Column) => (c.type === 'mixed' ? typeof rows.find((r) => r[c.name] != null)?.[c.name] : c.type);
  const label = columns.find((c) => c.name !== 'source_db' && typeOf(c) === 'string');
  const measures = columns.filter((c) => c.name !== 'source_db' && typeOf(c) === 'number').map((c) => c.name);
  return label && measures.length ? { label: label.name, measures } : null;
}

export function ResultChart({ lanes, combine }: { lanes: Lane[]; combine: Combined | null }) {
  const [type, setType] = useState<'bar' | 'line'>('bar');
  const [measure, setMeasure] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const plot = useMemo(() => {
    let series: Series[] = [];
    let columns: Column[] = [];
    if (lanes.length) {
      series = lanes.map((l) => ({ name: l.database, rows: l.data ?? [] }));
      columns = lanes[0].columns ?? [];
    } else if (combine && combine.rows.length) {
      columns = combine.columns;
      if (columns.some((c) => c.name === 'source_db')) {
        const by = new Map<string, Row[]>();
        for (const r of combine.rows) {
          const k = String(r.source_db);
          if (!by.has(k)) by.set(k, []);
          by.get(k)!.push(r);
        }
        series = [...by].map(([name, rows]) => ({ name, rows }));
      } else {
        series = [{ name: 'combined', rows: combine.rows }];
      }
    }
    const all = series.flatMap((s) => s.rows);
    const shape = all.length && all.length <= 5000 ? shapeOf(columns, all) : null;
    return shape ? { series, ...shape } : null;
  }, [lanes, combine]);

  const picked = plot && measure && plot.measures.includes(measure) ? measure : plot?.measures[0] ?? null;

  useEffect(() => {
    if (!plot || !picked || !canvas.current) return;
    const labels: string[] = [];
    for (const s of plot.series) for (const r of s.rows) {
      const l = String(r[plot.label]);
      if (!labels.includes(l)) labels.push(l);
    }
    const chart = new Chart(canvas.current, {
      type,
      data: {
        labels,
        datasets: plot.series.map((s, i) => {
          const byLabel = new Map(s.rows.map((r) => [String(r[plot.label]), r[picked] as number | null]));
          return {
            label: s.name,
            data: labels.map((l) => byLabel.get(l) ?? null),
            backgroundColor: COLOURS[i % COLOURS.length],
            borderColor: COLOURS[i % COLOURS.length],
          };
        }),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } },
    });
    return () => chart.destroy();
  }, [plot, picked, type]);

  if (!plot || !picked) return null;
  return (
    <section className="chart-box" aria-label="Chart">
      <div className="buttons">
        <button data-testid="chart-type-bar" type="button" aria-pressed={type === 'bar'} onClick={() => setType('bar')}>Bars</button>
        <button data-testid="chart-type-line" type="button" aria-pressed={type === 'line'} onClick={() => setType('line')}>Lines</button>
        {plot.measures.length > 1 && (
          <select aria-label="Measure to chart" value={picked} onChange={(e) => setMeasure(e.target.value)}>
            {plot.measures.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        )}
      </div>
      <div className="chart-canvas">
        <canvas ref={canvas} data-testid="chart" data-series={plot.series.length} data-chart-type={type} role="img"
          aria-label={`${type === 'bar' ? 'Bar' : 'Line'} chart of ${picked} by ${plot.label}, one series per database: ${plot.series.map((s) => s.name).join(', ')}`} />
      </div>
    </section>
  );
}
