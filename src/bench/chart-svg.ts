/**
 * Inline SVG line charts for the HTML reports: no script, no library, no network. Each series is
 * a `<path class="series" data-broker="…">` so tests (and people) can find it; axis labels are
 * `<text class="tick-x">` / `<text class="tick-y">` with the tick's value in `data-value`.
 * Ticks are round (1, 2 or 5 times a power of ten apart) and the axes end on a tick.
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

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Floating-point noise off a tick (0.30000000000000004 → 0.3). */
const clean = (v: number) => Number(v.toPrecision(12));

/**
 * Round ticks covering [min, max]: about `count` intervals, 1, 2 or 5 times a power of ten
 * apart, the first at or below min, the last at or above max (0 / 500 / 1,000 / 1,500 / 2,000
 * for 0..1,985, not 662 / 1,323 / 1,985).
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (min === 0) return [0, 1];
    const pad = Math.abs(min) / 2;
    [min, max] = [min - pad, max + pad];
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.floor(clean(min / step)) * step;
  const last = Math.ceil(clean(max / step)) * step;
  const ticks: number[] = [];
  for (let i = 0; i <= Math.round((last - first) / step); i++) ticks.push(clean(first + i * step));
  return ticks;
}

/** Ticks of a log axis covering [min, max] (> 0): powers of ten, with 2 and 5 between when few. */
export function logTicks(min: number, max: number): number[] {
  const low = Math.floor(Math.log10(Math.max(min, 1e-3)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(max, 1e-3))));
  const ticks: number[] = [];
  for (let k = low; k <= high; k++) {
    ticks.push(clean(10 ** k));
    if (high - low <= 2 && k < high) ticks.push(clean(2 * 10 ** k), clean(5 * 10 ** k));
  }
  return ticks;
}

export const tickLabel = (v: number) => clean(v).toLocaleString('en-US', { maximumFractionDigits: 6 });

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Maps x for drawing (e.g. percentiles on a log scale of 1/(1-p)); ticks then given in xTicks. */
  xTransform?: (x: number) => number;
  /** [drawn x, label]: for transformed axes. */
  xTicks?: [number, string][];
  logY?: boolean;
  /** A shaded band of x (data units), e.g. the warm-up. */
  band?: { from: number; to: number; label: string };
}

const WIDTH = 720;
const HEIGHT = 300;
const PAD = { left: 70, right: 20, top: 30, bottom: 45 };

export function lineChart(series: Series[], options: ChartOptions): string {
  const fx = options.xTransform ?? ((x: number) => x);
  const all = series.flatMap((s) => s.points);
  const xs = all.map(([x]) => fx(x));
  const ys = all.map(([, y]) => y);
  let xTicks: [number, string][];
  if (options.xTicks) xTicks = options.xTicks;
  else xTicks = niceTicks(Math.min(...xs, 0), Math.max(...xs, 1)).map((v) => [v, tickLabel(v)]);
  const xMin = Math.min(xTicks[0]![0], ...xs);
  const xMax = Math.max(xTicks[xTicks.length - 1]![0], ...xs);
  const yValues = options.logY ? logTicks(Math.min(...ys.filter((y) => y > 0), 1), Math.max(...ys, 1)) : niceTicks(0, Math.max(...ys, 1));
  const fy = options.logY ? (y: number) => Math.log10(Math.max(y, 1e-3)) : (y: number) => y;
  const yMin = fy(yValues[0]!);
  const yMax = fy(yValues[yValues.length - 1]!);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (drawn: number) => PAD.left + ((drawn - xMin) / (xMax - xMin || 1)) * plotW;
  const px = (x: number) => sx(fx(x));
  const py = (y: number) => HEIGHT - PAD.bottom - ((fy(y) - yMin) / (yMax - yMin || 1)) * plotH;
  const f = (n: number) => n.toFixed(1);
  const paths = series
    .map((s, i) => {
      if (s.points.length === 0) return '';
      const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${f(px(x))},${f(py(y))}`).join(' ');
      return `<path class="series" data-broker="${escapeHtml(s.name)}" d="${d}" fill="none" stroke="${colorFor(s.name, i)}" stroke-width="2"><title>${escapeHtml(s.name)}</title></path>`;
    })
    .join('\n');
  const band = options.band && options.band.to > options.band.from ? options.band : undefined;
  const bandSvg = band
    ? `<g class="band"><rect x="${f(px(band.from))}" y="${PAD.top}" width="${f(px(band.to) - px(band.from))}" height="${plotH}" fill="#e5e7eb" fill-opacity="0.6"/><text x="${f((px(band.from) + px(band.to)) / 2)}" y="${PAD.top - 6}" text-anchor="middle" font-size="11" fill="#4b5563">${escapeHtml(band.label)}</text></g>`
    : '';
  const legend = series
    .map((s, i) => `<span class="key"><i style="border-top:3px solid ${colorFor(s.name, i)}"></i>${escapeHtml(s.name)}</span>`)
    .join(' ');
  return `<figure>
<figcaption>${escapeHtml(options.title)}</figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(options.title)}">
${bandSvg}
<g class="grid" stroke="#e5e7eb">${yValues.map((v) => `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${f(py(v))}" y2="${f(py(v))}"/>`).join('')}</g>
<g class="axis" font-size="11" fill="#374151">
${yValues.map((v) => `<text class="tick-y" data-value="${v}" x="${PAD.left - 6}" y="${f(py(v) + 4)}" text-anchor="end">${tickLabel(v)}</text>`).join('\n')}
${xTicks.map(([v, label]) => `<text class="tick-x" data-value="${escapeHtml(label)}" x="${f(sx(v))}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${escapeHtml(label)}</text>`).join('\n')}
<text x="${(WIDTH + PAD.left) / 2}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>
<text transform="translate(14,${(HEIGHT - PAD.bottom + PAD.top) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>
</g>
${paths}
</svg>
<div class="legend">${legend}</div>
</figure>`;
}
