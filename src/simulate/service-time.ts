// `--service-time`: how long one handler try takes. `--failure-rate`: the share of tries that
// fail (retriable), which the engine turns into retries with backoff (src/handler/retry.ts).
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { parseDuration } from '../cli/units.ts';
import type { Random } from './random.ts';

export const serviceTimeForms =
  'fixed:5ms | exp:5ms (mean) | lognormal:p50=4ms,p99=40ms | empirical:FILE[#broker] (a `sluice bench --out` JSON)';

export interface ServiceTime {
  spec: string;
  /** Mean of one try (s), for reports and the closed-form checks. */
  mean: number;
  /** One try's duration (s). */
  sample(random: Random): number;
  /**
   * One try's duration when it starts in the completion of the worker's last event rather than
   * on a delivery: differs for a timer-based handler (timer-work.ts); absent: as sample.
   */
  sampleChained?(random: Random): number;
  /** What was fitted from, when it was (empirical). */
  note?: string;
  /**
   * A timer-based handler (the bench's setTimeout sleep, timer-work.ts): its timers fire on the
   * event loop's whole-millisecond clock, so completions come on this grid (s) and those due in
   * the same tick run one after another on the loop (engine.ts start). Absent: any time.
   */
  tick?: number;
}

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

export function parseServiceTime(
  spec: string,
  flag = '--service-time',
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ServiceTime {
  const text = spec.trim();
  const fail = (why: string): never => {
    throw new ConfigError(flag, `${why} in "${spec}"; accepted forms: ${serviceTimeForms}`);
  };
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : text;
  const rest = colon > 0 ? text.slice(colon + 1) : '';
  const duration = (value: string) => {
    try {
      return parseDuration(value, flag, 'ms') / 1000;
    } catch {
      return fail(`expected a duration such as 5ms, got "${value}"`);
    }
  };
  switch (kind) {
    case 'none':
    case '0':
      return { spec, mean: 0, sample: () => 0 };
    case 'fixed': {
      const value = duration(rest);
      return { spec, mean: value, sample: () => value };
    }
    case 'exp': {
      const mean = duration(rest);
      return { spec, mean, sample: (random) => random.exponential(mean) };
    }
    case 'lognormal': {
      const values: Record<string, number> = {};
      for (const part of rest.split(',')) {
        const [key, value] = part.split('=');
        if ((key !== 'p50' && key !== 'p99') || value === undefined) fail(`unexpected "${part}" (expected p50=…,p99=…)`);
        values[key!] = duration(value!);
      }
      const p50 = values.p50;
      const p99 = values.p99;
      if (!(p50! > 0) || !(p99! > p50!)) fail('lognormal needs 0 < p50 < p99');
      const mu = Math.log(p50!);
      const sigma = (Math.log(p99!) - mu) / Z99;
      return { spec, mean: Math.exp(mu + (sigma * sigma) / 2), sample: (random) => Math.exp(mu + sigma * random.normal()) };
    }
    case 'empirical':
      return empirical(spec, rest, flag, read, fail);
    default:
      return fail(`unknown kind "${kind}"`);
  }
}

interface BenchRunJson {
  broker?: string;
  workload?: { work?: string; rate?: number };
  latencyCurve?: [number, number][];
  latencyMs?: { p50: number; p99: number };
  error?: string;
}

/**
 * A `sluice bench --out` JSON holds, per run, the end-to-end latency's percentile curve
 * (`latencyCurve`: [percentile, ms] at 0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
 * 99.999, 100), its summary percentiles, and the handler work it ran (`workload.work`). No
 * handler-only histogram is in it. The curve is used as an inverse CDF (linear between points):
 * that is end-to-end latency, so it equals the service time only for a run far from saturation
 * (little queueing); the note says so, with the run's rate and work.
 */
function empirical(spec: string, rest: string, flag: string, read: (path: string) => string, fail: (why: string) => never): ServiceTime {
  const [path, broker] = rest.split('#');
  if (!path) fail('empirical needs a file');
  let json: { runs?: BenchRunJson[] };
  try {
    json = JSON.parse(read(path!)) as { runs?: BenchRunJson[] };
  } catch (error) {
    throw new ConfigError(flag, `cannot read ${path} as a sluice bench JSON: ${(error as Error).message}`);
  }
  const runs = (json.runs ?? []).filter((run) => !run.error && Array.isArray(run.latencyCurve) && run.latencyCurve.length > 1);
  const run = broker ? runs.find((r) => r.broker === broker) : runs[0];
  if (!run) {
    const names = runs.map((r) => r.broker).join(', ') || 'none';
    throw new ConfigError(flag, `${path}: no usable run${broker ? ` for broker "${broker}"` : ''} (runs with a latency curve: ${names})`);
  }
  const curve = run.latencyCurve!.map(([p, ms]) => [p / 100, ms / 1000] as const);
  let mean = 0;
  for (let i = 1; i < curve.length; i++) mean += (curve[i]![0] - curve[i - 1]![0]) * ((curve[i]![1] + curve[i - 1]![1]) / 2);
  const us = new Float64Array(curve.map(([q]) => q));
  const values = new Float64Array(curve.map(([, v]) => v));
  return {
    spec,
    mean,
    note: `fitted from ${path} run ${run.broker ?? '?'} (rate ${run.workload?.rate ?? '?'}/s, work ${run.workload?.work ?? '?'}): its end-to-end latency curve, so queueing in that run counts as service time`,
    sample: (random) => {
      const u = random.next();
      let i = 1;
      while (i < us.length - 1 && us[i]! < u) i++;
      const span = us[i]! - us[i - 1]!;
      const f = span > 0 ? (u - us[i - 1]!) / span : 0;
      return values[i - 1]! + f * (values[i]! - values[i - 1]!);
    },
  };
}
