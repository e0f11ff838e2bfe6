import { stringify as toYaml } from 'yaml';
import { BENCH_COLUMNS, benchRow, cutOffNote } from './bench-columns.ts';
import type { BenchOutput } from './bench-command.ts';
import { escapeHtml, lineChart, logTicks, type Series } from './chart-svg.ts';
import type { Machine } from './provenance.ts';
import { ms } from './table.ts';
import type { TuneOutput } from './tune.ts';

export { colorFor, lineChart, niceTicks } from './chart-svg.ts';

/**
 * Self-contained HTML reports of `bench` and `tune`: inline SVG charts (chart-svg.ts) and
 * tables, no script, no network. They stand on their own: every figure of the terminal table,
 * the Sluice version and commit, the machine, the options and each run's effective config. The
 * layout fits an 800 px window (the SVGs scale, the tables wrap their headers) and prints (no
 * background fills that matter, charts and tables not split across pages).
 */

function htmlTable(headers: { text: string; title?: string }[], rows: (string | number)[][], rowClass?: (i: number) => string): string {
  const head = headers.map((h) => `<th${h.title ? ` title="${escapeHtml(h.title)}"` : ''}>${escapeHtml(h.text)}</th>`).join('');
  const body = rows
    .map((row, i) => {
      const cls = rowClass?.(i);
      const cells = row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('');
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A failed run's row: its error across the figure columns (long messages wrap). */
function errorRow(cells: (string | number)[], span: number, message: string): string {
  return `<tr class="error"><td>${escapeHtml(String(cells[0]))}</td><td>${escapeHtml(String(cells[1]))}</td><td colspan="${span}" class="message">${escapeHtml(message)}</td></tr>`;
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;padding:0 24px;color:#111827;background:#fff;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;max-width:100%}
td,th{border:1px solid #d1d5db;padding:3px 6px;text-align:right;vertical-align:top}
th{font-weight:600;white-space:normal}
td:first-child,th:first-child{text-align:left}
td.message{text-align:left;overflow-wrap:anywhere}
tr.frontier td{background:#ecfdf5}tr.recommended td{background:#bbf7d0;font-weight:600}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{display:block;max-width:100%;height:auto}
.legend .key{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:14px;height:0;margin-right:4px;vertical-align:middle}
.note{color:#4b5563}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dl.meta dt{color:#4b5563}dl.meta dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f9fafb;border:1px solid #e5e7eb;padding:8px;font-size:12px}
details{margin:6px 0}
@media (max-width:900px){body{padding:0 12px;margin:12px auto}table{font-size:12px}td,th{padding:2px 4px}}
@media print{
  @page{margin:14mm}
  body{margin:0;padding:0;max-width:none;font-size:11pt;color:#000;background:#fff}
  pre{background:none;border:1px solid #999}
  tr.frontier td{background:none}tr.recommended td{background:none;font-weight:700;text-decoration:underline}
  figure,table,dl.meta,pre{break-inside:avoid;page-break-inside:avoid}
  h1,h2,figcaption{break-after:avoid;page-break-after:avoid}
  svg{width:100%;max-width:17cm}
}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${CSS}
</style></head><body>
${body}
</body></html>
`;
}

/** Version, commit, machine, times: a `<dl class="meta">` (each `dd` has `data-key`). */
function metadata(
  o: { version?: string; commit?: string; machine: Machine; startedAt: string; finishedAt?: string },
  extra: [string, string][] = [],
): string {
  const m = o.machine;
  const rows: [string, string, string][] = [
    ['version', 'Sluice', o.version ?? 'unknown'],
    ['commit', 'commit', o.commit ?? 'unknown'],
    ['started', 'started', o.startedAt],
    ...(o.finishedAt ? [['finished', 'finished', o.finishedAt] as [string, string, string]] : []),
    ['machine', 'machine', `${m.cpuModel}, ${m.cpus} cores, ${m.memoryGB} GB`],
    ['node', 'Node', m.node],
    ['os', 'OS', m.os ?? 'unknown'],
    ...extra.map(([k, v]) => [k, k, v] as [string, string, string]),
  ];
  return `<dl class="meta">${rows.map(([key, label, value]) => `<dt>${escapeHtml(label)}</dt><dd data-key="${key}">${escapeHtml(value)}</dd>`).join('')}</dl>
<p class="note">${escapeHtml(m.note)}</p>`;
}

/** A config (or options) block, open so that it prints. */
function configBlock(summary: string, value: unknown): string {
  return `<details open class="config"><summary>${escapeHtml(summary)}</summary><pre>${escapeHtml(toYaml(value).trimEnd())}</pre></details>`;
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
  const throughput: Series[] = runs.map((run) => ({
    name: run.broker,
    points: run.series
      .slice(0, -1)
      .map((point, i, all) => [point.t, i === 0 ? point.delivered : point.delivered - all[i - 1]!.delivered] as [number, number]),
  }));
  const backlog: Series[] = runs.map((run) => ({
    name: run.broker,
    points: run.series.slice(0, -1).map((p) => [p.t, p.backlog] as [number, number]),
  }));
  const latency: Series[] = runs.map((run) => ({ name: run.broker, points: run.latencyCurve.map(([p, v]) => [p, v] as [number, number]) }));
  const span = BENCH_COLUMNS.length - 2;
  const rows = output.runs
    .map((run) => {
      const cells = benchRow(run);
      if (run.error) return errorRow(cells, span, `error: ${run.error}`);
      return `<tr>${cells.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const head = BENCH_COLUMNS.map((c) => `<th title="${escapeHtml(c.title)}">${escapeHtml(c.header)}</th>`).join('');
  const w = output.options?.workload ?? output.runs[0]?.workload;
  const band = w && w.warmupS > 0 ? { from: 0, to: w.warmupS, label: 'warm-up' } : undefined;
  const body = `<h1>Sluice benchmark</h1>
${metadata(output)}
${w ? `<p>Workload: ${w.spec ? `arrivals ${escapeHtml(w.spec)}, ` : ''}${w.messageSize} B events, ${w.keys} keys, ${w.partitions} partitions/shards, ${w.warmupS} s warm-up + ${w.durationS} s measured, drain ≤ ${w.drainTimeoutS} s, handler work ${escapeHtml(w.work)}; latency from each event's intended send time (open loop).</p>` : ''}
<table class="results"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
${w ? `<p class="note">${w.warmupS > 0 ? `The warm-up (first ${w.warmupS} s, shaded in the charts) is left out of throughput and latency; sent, lost and dups count it.` : 'No warm-up.'} Hover a header for what it measures.</p>` : ''}
${cutOffNote(output.runs) ? `<p class="note">${escapeHtml(cutOffNote(output.runs)!)}</p>` : ''}
${
  output.maxRate
    ? `<h2>Maximum sustained rate</h2>${htmlTable(
        [{ text: 'broker' }, { text: 'rate/s' }, { text: 'trials (rate: sustained?)' }],
        Object.entries(output.maxRate).map(([b, r]) => [
          b,
          r.rate,
          r.trials.map((t) => `${t.rate}:${t.sustained ? 'ok' : 'no'}`).join(' '),
        ]),
      )}`
    : ''
}
${lineChart(throughput, { title: 'Delivered throughput over time', xLabel: 'seconds since production started', yLabel: 'events / s', band })}
${lineChart(backlog, { title: 'Backlog over time (sent − delivered)', xLabel: 'seconds since production started', yLabel: 'events', band })}
${lineChart(latency, { title: 'End-to-end latency by percentile (after the warm-up)', xLabel: 'percentile', yLabel: 'ms (log)', logY: true, xTransform: (p) => Math.log10(1 / (1 - Math.min(p, 99.999) / 100)), xTicks: PERCENTILE_TICKS })}
<h2>Configuration</h2>
${output.options ? configBlock('bench options', output.options) : ''}
${output.runs.map((run) => (run.config ? configBlock(`${run.broker}: effective Sluice config`, run.config) : '')).join('\n')}
`;
  return page('Sluice benchmark', body);
}

export function renderTuneReport(output: TuneOutput): string {
  const recommended = output.recommended ? output.points.indexOf(output.recommended) : -1;
  // The terminal's columns (tune.ts), in the same order.
  const rows = output.points.map((p, i) => [
    p.queueSize,
    p.poolSize,
    p.error ? `error: ${p.error}` : Math.round(p.throughput).toLocaleString('en-US'),
    p.error ? '' : ms(p.p99Ms),
    p.peakRssMB,
    p.lost,
    p.meetsSlo ? 'yes' : 'no',
    i === recommended ? '◆ recommended' : p.frontier ? '◆' : '',
  ]);
  const byPool = new Map<number, [number, number][]>();
  for (const p of output.points) if (!p.error) byPool.set(p.poolSize, [...(byPool.get(p.poolSize) ?? []), [p.queueSize, p.p99Ms]]);
  const series = [...byPool].map(([pool, points]) => ({ name: `pool ${pool}`, points: points.sort((a, b) => a[0] - b[0]) }));
  const queues = [...new Set(output.points.map((p) => p.queueSize))];
  const w = output.options?.workload;
  const body = `<h1>Sluice tune: ${escapeHtml(output.broker)}</h1>
${metadata(output, [
  ['rate', `${output.rate}/s`],
  ['SLO', `p99 ≤ ${output.sloP99Ms} ms, zero loss`],
  ['work', output.work],
])}
${w ? `<p>Each trial: ${w.spec ? `arrivals ${escapeHtml(w.spec)}, ` : ''}${w.warmupS} s warm-up + ${w.durationS} s measured, ${w.messageSize} B events, ${w.keys} keys, ${w.partitions} partitions/shards.</p>` : ''}
${htmlTable(
  ['queue', 'pool', 'throughput/s', 'p99 ms', 'peak RSS MB', 'lost', 'SLO', 'Pareto'].map((text) => ({ text })),
  rows,
  (i) => (i === recommended ? 'recommended' : output.points[i]!.frontier ? 'frontier' : ''),
)}
<h2>Recommendation</h2>
<pre>${escapeHtml(output.snippet)}</pre>
${lineChart(series, { title: 'p99 latency by queue size, one line per pool size', xLabel: 'queue size (events, log)', yLabel: 'p99 ms (log)', logY: true, xTransform: (q) => Math.log10(q), xTicks: (queues.length ? queues : logTicks(1, 10)).map((q) => [Math.log10(q), q.toLocaleString('en-US')]) })}
<h2>Configuration</h2>
${output.options ? configBlock('tune options', output.options) : ''}
${output.config ? configBlock('effective Sluice config of the first trial (queue.maxEvents and pool.size vary by trial)', output.config) : ''}
`;
  return page(`Sluice tune: ${output.broker}`, body);
}
