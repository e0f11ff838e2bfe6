// simulate:validate's arithmetic: the figures one scenario gives both ways, their errors, and
// the worst error per metric over all scenarios. Pure (no I/O), so the unit tests pin it down.
import { num, table } from '../bench/table.ts';

/** Issue #15's goals, as relative errors (and "keeps up" always right). */
export const GOALS = { throughput: 0.05, p50: 0.2, p99: 0.3, dropped: 0.1 } as const;

export interface Figures {
  /** Events finished per second over the measured window. */
  throughput: number;
  p50: number;
  p99: number;
  keepsUp: boolean;
  /** Events a lossy queue policy dropped, whole run. */
  dropped: number;
  /** Events offered, whole run (the scale of the dropped error when nothing was measured dropped). */
  sent: number;
}

export interface Errors {
  throughput: number;
  p50: number;
  p99: number;
  dropped: number;
  keepsUpRight: boolean;
}

export interface Comparison {
  name: string;
  predicted: Figures;
  measured: Figures;
  errors: Errors;
  /** Each goal met. */
  pass: Record<keyof typeof GOALS | 'keepsUp', boolean>;
}

/** |predicted − measured| / measured; 0 when both are 0, Infinity when only the measurement is. */
export function relativeError(predicted: number, measured: number): number {
  if (measured === 0) return predicted === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(predicted - measured) / Math.abs(measured);
}

/**
 * Dropped counts: relative to what was measured, but never to less than 0.1 % of the events
 * sent, so 0 measured against a handful predicted (a queue brushing its limit once) is a small
 * error, not an infinite one.
 */
export function droppedError(predicted: number, measured: number, sent: number): number {
  const scale = Math.max(measured, 0.001 * sent, 1);
  return Math.abs(predicted - measured) / scale;
}

export function compare(name: string, predicted: Figures, measured: Figures): Comparison {
  const errors: Errors = {
    throughput: relativeError(predicted.throughput, measured.throughput),
    p50: relativeError(predicted.p50, measured.p50),
    p99: relativeError(predicted.p99, measured.p99),
    dropped: droppedError(predicted.dropped, measured.dropped, measured.sent),
    keepsUpRight: predicted.keepsUp === measured.keepsUp,
  };
  return {
    name,
    predicted,
    measured,
    errors,
    pass: {
      throughput: errors.throughput <= GOALS.throughput,
      p50: errors.p50 <= GOALS.p50,
      p99: errors.p99 <= GOALS.p99,
      dropped: errors.dropped <= GOALS.dropped,
      keepsUp: errors.keepsUpRight,
    },
  };
}

export interface Worst {
  scenarios: number;
  throughput: number;
  p50: number;
  p99: number;
  dropped: number;
  /** Scenarios whose keeps-up verdict the model got wrong. */
  keepsUpWrong: number;
  /** Every goal met in every scenario. */
  pass: boolean;
  /** Scenario name of each worst figure. */
  where: Record<'throughput' | 'p50' | 'p99' | 'dropped', string>;
}

/** The worst error per metric (the JSON object validate prints last). */
export function worst(comparisons: readonly Comparison[]): Worst {
  const out: Worst = {
    scenarios: comparisons.length,
    throughput: 0,
    p50: 0,
    p99: 0,
    dropped: 0,
    keepsUpWrong: 0,
    pass: comparisons.length > 0,
    where: { throughput: '', p50: '', p99: '', dropped: '' },
  };
  for (const c of comparisons) {
    for (const metric of ['throughput', 'p50', 'p99', 'dropped'] as const) {
      if (c.errors[metric] >= out[metric] && (out.where[metric] === '' || c.errors[metric] > out[metric])) {
        out[metric] = c.errors[metric];
        out.where[metric] = c.name;
      }
    }
    if (!c.errors.keepsUpRight) out.keepsUpWrong++;
    if (!Object.values(c.pass).every(Boolean)) out.pass = false;
  }
  return out;
}

const pct = (error: number) => (Number.isFinite(error) ? `${(error * 100).toFixed(1)}%` : 'inf');
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const mark = (ok: boolean) => (ok ? '' : ' ✗');

/** Predicted against measured, one row per scenario; ✗ marks a missed goal. */
export function comparisonTable(comparisons: readonly Comparison[]): string {
  return table(
    [
      'scenario',
      'thr/s sim',
      'thr/s bench',
      'err',
      'p50 sim',
      'p50 bench',
      'err',
      'p99 sim',
      'p99 bench',
      'err',
      'keeps up sim/bench',
      'dropped sim',
      'dropped bench',
      'err',
    ],
    comparisons.map((c) => [
      c.name,
      num(c.predicted.throughput),
      num(c.measured.throughput),
      pct(c.errors.throughput) + mark(c.pass.throughput),
      ms(c.predicted.p50),
      ms(c.measured.p50),
      pct(c.errors.p50) + mark(c.pass.p50),
      ms(c.predicted.p99),
      ms(c.measured.p99),
      pct(c.errors.p99) + mark(c.pass.p99),
      `${c.predicted.keepsUp ? 'yes' : 'no'}/${c.measured.keepsUp ? 'yes' : 'no'}${mark(c.pass.keepsUp)}`,
      num(c.predicted.dropped),
      num(c.measured.dropped),
      pct(c.errors.dropped) + mark(c.pass.dropped),
    ]),
  );
}
