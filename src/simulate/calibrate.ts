// `--calibrate-from URL|FILE`: the service time from a running Sluice's Prometheus histogram
// `sluice_processing_duration_seconds` (src/metrics/prometheus.ts: handler time per event, first
// try to final outcome, so retries and backoffs are inside it: simulate it with --failure-rate 0).
// The cumulative buckets become an inverse CDF, linear inside each bucket (the first bucket starts
// at 0; what lies beyond the last finite bound is drawn at that bound, a floor for the tail).
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import type { ServiceTime } from './service-time.ts';

const METRIC = 'sluice_processing_duration_seconds_bucket';

/** Cumulative counts by upper bound, summed over label sets (brokers, instances of one scrape). */
export function bucketsFrom(text: string): { le: number; count: number }[] {
  const byBound = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(METRIC)) continue;
    const bound = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.trim().split(/\s+/).at(-1));
    if (bound === undefined || !Number.isFinite(value)) continue;
    const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
    byBound.set(le, (byBound.get(le) ?? 0) + value);
  }
  return [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

export function serviceTimeFromBuckets(buckets: { le: number; count: number }[], source: string, flag = '--calibrate-from'): ServiceTime {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) throw new ConfigError(flag, `${source}: no ${METRIC} observations (is it a Sluice /metrics page, after some events?)`);
  const finite = buckets.filter((b) => Number.isFinite(b.le));
  const qs = new Float64Array([0, ...finite.map((b) => b.count / total)]);
  const values = new Float64Array([0, ...finite.map((b) => b.le)]);
  let mean = 0;
  for (let i = 1; i < qs.length; i++) mean += (qs[i]! - qs[i - 1]!) * ((values[i]! + values[i - 1]!) / 2);
  mean += (1 - qs[qs.length - 1]!) * values[values.length - 1]!;
  return {
    spec: `calibrated:${source}`,
    mean,
    note: `fitted from ${source}: ${Math.round(total)} events of sluice_processing_duration_seconds (handler time per event, retries included)`,
    sample: (random) => {
      const u = random.next();
      let i = 1;
      while (i < qs.length && qs[i]! < u) i++;
      if (i >= qs.length) return values[values.length - 1]!;
      const span = qs[i]! - qs[i - 1]!;
      return values[i - 1]! + (span > 0 ? (u - qs[i - 1]!) / span : 0) * (values[i]! - values[i - 1]!);
    },
  };
}

/** Reads a /metrics page (http:// or https://) or a saved copy of one. */
export async function calibrateFrom(source: string, flag = '--calibrate-from'): Promise<ServiceTime> {
  let text: string;
  try {
    if (/^https?:\/\//.test(source)) {
      const response = await fetch(source, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } else text = await readFile(source, 'utf8');
  } catch (error) {
    throw new ConfigError(flag, `cannot read ${source}: ${(error as Error).message}`);
  }
  return serviceTimeFromBuckets(bucketsFrom(text), source, flag);
}
