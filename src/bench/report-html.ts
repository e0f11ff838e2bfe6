import type { BenchOutput } from './bench-command.ts';
import type { TuneOutput } from './tune.ts';

/**
 * Self-contained HTML reports: inline SVG charts and tables, no script, no network. Each series
 * is a `<path class="series" data-broker="…">` so tests (and people) can find it.
 */

const COLORS: Record<string, string> = {
  memory: '#6b7280',
  kafka: '#1f77b4',
  'kafka (kafkajs)': '#1f77b4',
  'kafka (platformatic)': '#d62728',
  kinesis: '#ff7f0e',
  pubsub: '#2ca02c',
};
const EXTRA = ['#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function colorFor(name: string, index: number): string {
  return COLORS[name] ?? EXTRA[index % EXTRA.length]!;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series {
  name: string;
  points: [number, number][];
}

interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Maps x for drawing (e.g. percentiles on a log scale of 1/(1-p)). */
  xTransform?: (x: number) => number;
  xTicks?: [number, string][];
  logY?: boolean;
}

export function lineChart(series: Series[], options: ChartOptions): string {
  const width = 720;
  const height = 300;
  const pad = { left: 70, right: 20, top: 30, bottom: 45 };
  const fx = options.xTransform ?? ((x: number) => x);
  const fy = options.logY ? (y: number) => Math.log10(Math.max(y, 0.001)) : (y: number) => y;
  const all = series.flatMap((s) => s.points);
  const xs = all.map(([x]) => fx(x));
  const ys = all.map(([, y]) => fy(y));
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const yMin = options.logY ? Math.min(...ys, 0) : 0;
  const yMax = Math.max(...ys, options.logY ? 1 : 1) * 1.05;
  const px = (x: number) => pad.left + ((fx(x) - xMin) / (xMax - xMin || 1)) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - ((fy(y) - yMin) / (yMax - yMin || 1)) * (height - pad.top - pad.bottom);
  const yTicks = Array.from({ length: 5 }, (_, i) => yMin + ((yMax - yMin) * i) / 4);
  const yTickLabel = (v: number) => {
    const value = options.logY ? 10 ** v : v;
    return value >= 1000 ? Math.round(value).toLocaleString('en-US') : Number(value.toPrecision(3)).toString();
  };
  const paths = series
    .map((s, i) => {
      if (s.points.length === 0) return '';
      const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      return `<path class="series" data-broker="${escapeHtml(s.name)}" d="${d}" fill="none" stroke="${colorFor(s.name, i)}" stroke-width="2"><title>${escapeHtml(s.name)}</title></path>`;
    })
    .join('\n');
  const xTicks = options.xTicks ?? niceTicks(xMin, xMax);
  const legend = series
    .map((s, i) => `<span class="key"><i style="background:${colorFor(s.name, i)}"></i>${escapeHtml(s.name)}</span>`)
    .join(' ');
  return `<figure>
<figcaption>${escapeHtml(options.title)}</figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">
<g class="grid" stroke="#e5e7eb">${yTicks.map((v) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${py(options.logY ? 10 ** v : v)}" y2="${py(options.logY ? 10 ** v : v)}"/>`).join('')}</g>
<g class="axis" font-size="11" fill="#374151">
${yTicks.map((v) => `<text x="${pad.left - 6}" y="${py(options.logY ? 10 ** v : v) + 4}" text-anchor="end">${yTickLabel(v)}</text>`).join('\n')}
${xTicks.map(([v, label]) => `<text x="${(pad.left + ((v - xMin) / (xMax - xMin || 1)) * (width - pad.left - pad.right)).toFixed(1)}" y="${height - pad.bottom + 16}" text-anchor="middle">${escapeHtml(label)}</text>`).join('\n')}
<text x="${(width + pad.left) / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>
<text transform="translate(14,${(height - pad.bottom + pad.top) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>
</g>
${paths}
</svg>
<div class="legend">${legend}</div>
</figure>`;
}

/** Round-numbered ticks (1, 2 or 5 times a power of ten apart), at most about six. */
function niceTicks(min: number, max: number): [number, string][] {
  const raw = (max - min) / 5 || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: [number, string][] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step)
    ticks.push([v, Number(v.toPrecision(6)).toLocaleString('en-US')]);
  return ticks;
}

function htmlTable(headers: string[], rows: (string | number)[][], rowClass?: (i: number) => string): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows.map((row, i) => `<tr class="${rowClass?.(i) ?? ''}">${row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111827;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d1d5db;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.frontier td{background:#ecfdf5}tr.recommended td{background:#bbf7d0;font-weight:600}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}.legend .key{margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.note{color:#4b5563}
</style></head><body>
${body}
</body></html>
`;
}

const PERCENTILE_TICKS: [number, string][] = [
  [0, '0'],
  [90, '90'],
  [99, '99'],
  [99.9, '99.9'],
  [99.99, '99.99'],
].map(([p, label]) => [Math.log10(1 / (1 - Math.min(Number(p), 99.999) / 100)), String(label)]);

export function renderBenchReport(output: BenchOutput): string {
  const runs = output.runs.filter((run) => !run.error);
  const throughput = runs.map((run) => ({
    name: run.broker,
    points: run.series
      .slice(0, -1)
      .map((point, i, all) => [point.t, i === 0 ? point.delivered : point.delivered - all[i - 1]!.delivered] as [number, number]),
  }));
  const backlog = runs.map((run) => ({ name: run.broker, points: run.series.map((p) => [p.t, p.backlog] as [number, number]) }));
  const latency = runs.map((run) => ({ name: run.broker, points: run.latencyCurve.map(([p, v]) => [p, v] as [number, number]) }));
  const rows = output.runs.map((run) =>
    run.error
      ? [run.broker, run.workload.rate, `error: ${run.error}`, '', '', '', '', '', '', '', '']
      : [
          run.broker,
          run.workload.rate,
          Math.round(run.throughput),
          run.sent,
          run.delivery.lost,
          run.delivery.duplicates,
          run.latencyMs.p50,
          run.latencyMs.p99,
          run.latencyMs.p999,
          run.latencyMs.max,
          run.peakRssMB,
        ],
  );
  const w = output.runs[0]?.workload;
  const body = `<h1>Sluice benchmark</h1>
<p class="note">${escapeHtml(output.startedAt)} · ${output.machine.cpus} cores (${escapeHtml(output.machine.cpuModel)}), ${output.machine.memoryGB} GB, Node ${escapeHtml(output.machine.node)} · ${escapeHtml(output.machine.note)}</p>
${w ? `<p>Workload: ${w.messageSize} B events, ${w.keys} keys, ${w.partitions} partitions/shards, ${w.warmupS} s warm-up + ${w.durationS} s, handler work ${escapeHtml(w.work)}, latency from each event's intended send time (open loop).</p>` : ''}
${htmlTable(['broker', 'rate/s', 'throughput/s', 'sent', 'lost', 'duplicates', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'peak RSS MB'], rows)}
${
  output.maxRate
    ? `<h2>Maximum sustained rate</h2>${htmlTable(
        ['broker', 'rate/s', 'trials'],
        Object.entries(output.maxRate).map(([b, r]) => [
          b,
          r.rate,
          r.trials.map((t) => `${t.rate}:${t.sustained ? 'ok' : 'no'}`).join(' '),
        ]),
      )}`
    : ''
}
${lineChart(throughput, { title: 'Delivered throughput over time', xLabel: 'seconds since start', yLabel: 'events / s' })}
${lineChart(backlog, { title: 'Backlog over time (sent − delivered)', xLabel: 'seconds since start', yLabel: 'events' })}
${lineChart(latency, { title: 'End-to-end latency by percentile', xLabel: 'percentile', yLabel: 'ms (log)', logY: true, xTransform: (p) => Math.log10(1 / (1 - Math.min(p, 99.999) / 100)), xTicks: PERCENTILE_TICKS })}
`;
  return page('Sluice benchmark', body);
}

export function renderTuneReport(output: TuneOutput): string {
  const rows = output.points.map((p) => [
    p.queueSize,
    p.poolSize,
    Math.round(p.throughput),
    p.p99Ms,
    p.peakRssMB,
    p.lost,
    p.meetsSlo ? 'yes' : 'no',
    p.frontier ? '◆' : '',
  ]);
  const recommended = output.recommended ? output.points.indexOf(output.recommended) : -1;
  const byPool = new Map<number, [number, number][]>();
  for (const p of output.points) byPool.set(p.poolSize, [...(byPool.get(p.poolSize) ?? []), [p.queueSize, p.p99Ms]]);
  const series = [...byPool].map(([pool, points]) => ({ name: `pool ${pool}`, points: points.sort((a, b) => a[0] - b[0]) }));
  const body = `<h1>Sluice tune: ${escapeHtml(output.broker)}</h1>
<p class="note">${escapeHtml(output.startedAt)} · ${output.machine.cpus} cores, Node ${escapeHtml(output.machine.node)} · rate ${output.rate}/s · SLO p99 ≤ ${output.sloP99Ms} ms · handler work ${escapeHtml(output.work)}</p>
${htmlTable(['queue', 'pool', 'throughput/s', 'p99 ms', 'peak RSS MB', 'lost', 'meets SLO', 'Pareto'], rows, (i) => (i === recommended ? 'recommended' : output.points[i]!.frontier ? 'frontier' : ''))}
<h2>Recommendation</h2>
<pre>${escapeHtml(output.snippet)}</pre>
${lineChart(series, { title: 'p99 latency by queue size, one line per pool size', xLabel: 'queue size (events, log)', yLabel: 'p99 ms (log)', logY: true, xTransform: (q) => Math.log10(q), xTicks: [...new Set(output.points.map((p) => p.queueSize))].map((q) => [Math.log10(q), String(q)]) })}
`;
  return page(`Sluice tune: ${output.broker}`, body);
}
