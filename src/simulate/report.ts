// The HTML page of `sluice simulate --report`: queue depth, latency, throughput and backlog over
// time, one series per configuration, and the latency percentile curve. The charts are the
// bench report's own (src/bench/chart-svg.ts lineChart, which report-html.ts uses), so simulated and measured pages look
// alike; the page frame is restated here (report-html.ts does not export it).
import { escapeHtml, lineChart } from '../bench/chart-svg.ts';
import type { SimulationResult } from './results.ts';
import type { SweepOutput } from './sweep.ts';

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

function rowsTable(headers: string[], rows: (string | number)[][], rowClass?: (i: number) => string): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows.map((row, i) => `<tr class="${rowClass?.(i) ?? ''}">${row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
}

const nameOf = (r: SimulationResult) => `queue ${r.queueSize}, pool ${r.poolSize}`;

export function renderSimulationReport(all: SimulationResult[], sweep?: SweepOutput): string {
  // A sweep draws the frontier (and the recommendation), not every point of the grid.
  const drawn = sweep ? all.filter((_, i) => sweep.points[i]!.frontier || sweep.points[i] === sweep.recommended).slice(0, 8) : all;
  const over = (pick: (p: SimulationResult['series'][number]) => number) =>
    drawn.map((r) => ({ name: nameOf(r), points: r.series.map((p) => [p.t, pick(p)] as [number, number]) }));
  const first = all[0];
  const rows = all.map((r, i) => [
    r.queueSize,
    r.poolSize,
    Math.round(r.throughput),
    round(r.latencyMs.p50, 2),
    round(r.latencyMs.p99, 2),
    round(r.latencyMs.max, 2),
    r.peakQueueDepth,
    round(r.pausedShare * 100),
    r.backlogAtEnd,
    r.dropped,
    r.deadLettered,
    round(r.memory.peakMB),
    r.verdict.keepsUp ? 'yes' : 'no',
    sweep ? (sweep.points[i] === sweep.recommended ? '◆ recommended' : sweep.points[i]!.frontier ? '◆' : '') : r.verdict.reason,
  ]);
  const recommended = sweep?.recommended ? sweep.points.indexOf(sweep.recommended) : -1;
  const body = `<h1>Sluice simulation: ${escapeHtml(first?.broker ?? '')}</h1>
<p class="note">Simulated, not measured: workload ${escapeHtml(first?.workload ?? '')}, service time ${escapeHtml(first?.serviceTime ?? '')}, failure rate ${first?.failureRate ?? 0}, ${first?.keys ?? 0} keys (${escapeHtml(first?.keySkew ?? '')}), ${first?.messageSize ?? 0} B events, ${first?.partitions ?? 0} partitions, ${first?.durationS ?? 0} s, seed ${first?.seed ?? 0}. Latency from the broker append to the ack.</p>
${rowsTable(['queue', 'pool', 'throughput/s', 'p50 ms', 'p99 ms', 'max ms', 'peak queue', 'paused %', 'backlog', 'dropped', 'dead-lettered', 'memory MB', 'keeps up', sweep ? 'Pareto' : 'why'], rows, (i) => (i === recommended ? 'recommended' : sweep?.points[i]?.frontier ? 'frontier' : ''))}
${sweep ? `<h2>Recommendation</h2><pre>${escapeHtml(sweep.snippet)}</pre><p class="note">Charts: the Pareto frontier's configurations.</p>` : ''}
${lineChart(
  over((p) => p.queueDepth),
  { title: 'Queue depth over time', xLabel: 'seconds', yLabel: 'events' },
)}
${lineChart(
  over((p) => p.latencyMaxMs),
  { title: 'End-to-end latency over time (max per second)', xLabel: 'seconds', yLabel: 'ms' },
)}
${lineChart(
  over((p) => p.latencyMeanMs),
  { title: 'End-to-end latency over time (mean per second)', xLabel: 'seconds', yLabel: 'ms' },
)}
${lineChart(
  over((p) => p.completed),
  { title: 'Throughput over time', xLabel: 'seconds', yLabel: 'events / s' },
)}
${lineChart(
  over((p) => p.backlog),
  { title: 'Backlog in the broker over time', xLabel: 'seconds', yLabel: 'events' },
)}
${lineChart(
  drawn.map((r) => ({ name: nameOf(r), points: r.latencyCurve })),
  {
    title: 'End-to-end latency by percentile',
    xLabel: 'percentile',
    yLabel: 'ms (log)',
    logY: true,
    xTransform: (p) => Math.log10(1 / (1 - Math.min(p, 99.999) / 100)),
    xTicks: [0, 90, 99, 99.9, 99.99].map((p) => [Math.log10(1 / (1 - p / 100)), String(p)] as [number, string]),
  },
)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice simulation</title>
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
