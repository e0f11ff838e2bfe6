import * as hdr from 'hdr-histogram-js';
import type { FailedRange } from './producer.ts';
import { readStamp } from './stamp.ts';

export function latencyHistogram(): hdr.Histogram {
  // Microseconds, 1 µs to 1 hour, 3 significant digits.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export interface DeliverySummary {
  received: number;
  unique: number;
  duplicates: number;
  /** Stamped sequence numbers below `sent` never received. */
  lost: number;
  /** Events whose payload had no benchmark stamp (never expected). */
  foreign: number;
}

/**
 * What the consumer side of a benchmark saw: every sequence number (loss and duplicates are
 * counted after the drain, against what the producer says it sent), end-to-end latency from the
 * intended send time into an HDR histogram (warm-up excluded), and deliveries per second.
 */
export class DeliveryRecorder {
  readonly latencyUs = latencyHistogram();
  /**
   * The same events from the broker's timestamp (append / publish time) instead of the intended
   * send time: what `sluice simulate` measures (its clock starts at the broker append), so
   * simulate:validate compares like with like; the difference is the producer's share.
   */
  readonly fromBrokerUs = latencyHistogram();
  readonly perSecond: number[] = [];
  private seen = new Uint8Array(1 << 16);
  received = 0;
  private duplicates = 0;
  private foreign = 0;
  private maxSeq = -1;

  constructor(
    private readonly startMs: number,
    private readonly warmupEndMs: number,
  ) {}

  record(payload: Buffer, receivedAtMs: number, brokerMs?: number): void {
    const stamp = readStamp(payload);
    if (!stamp) {
      this.foreign++;
      return;
    }
    this.received++;
    const seq = stamp.seq;
    if (seq >= this.seen.length) this.grow(seq);
    if (this.seen[seq]! > 0) this.duplicates++;
    else this.seen[seq] = 1;
    if (seq > this.maxSeq) this.maxSeq = seq;
    const second = Math.max(0, Math.floor((receivedAtMs - this.startMs) / 1000));
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second]!++;
    if (stamp.intendedMs >= this.warmupEndMs) {
      this.latencyUs.recordValue(Math.max(1, Math.round((receivedAtMs - stamp.intendedMs) * 1000)));
      if (brokerMs !== undefined) this.fromBrokerUs.recordValue(Math.max(1, Math.round((receivedAtMs - brokerMs) * 1000)));
    }
  }

  /**
   * Loss and duplicates against what the producers confirmed: sequence numbers 0..taken-1 (all
   * producers' together: they split one sequence space) except those of batches the broker
   * refused (never expected downstream).
   */
  summary(taken: number, failedRanges: readonly FailedRange[] = []): DeliverySummary {
    const expected = new Uint8Array(taken).fill(1);
    for (const [first, count, stride = 1] of failedRanges) for (let i = 0; i < count; i++) expected[first + i * stride] = 0;
    let unique = 0;
    let lost = 0;
    for (let seq = 0; seq < taken; seq++) {
      if (!expected[seq]) continue;
      if (seq < this.seen.length && this.seen[seq]) unique++;
      else lost++;
    }
    return { received: this.received, unique, duplicates: this.duplicates, lost, foreign: this.foreign };
  }

  /** Distinct stamped events received so far. */
  get uniqueSoFar(): number {
    return this.received - this.duplicates;
  }

  private grow(seq: number): void {
    let size = this.seen.length;
    while (size <= seq) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.seen);
    this.seen = bigger;
  }
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** Percentiles in milliseconds. */
export function percentilesMs(histogram: hdr.Histogram): Percentiles {
  const at = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: histogram.maxValue / 1000, count: histogram.totalCount };
}

/** The percentile curve for charts: [percentile, ms] pairs on a log scale of 1/(1-p). */
export function percentileCurve(histogram: hdr.Histogram): [number, number][] {
  const points: [number, number][] = [];
  for (const p of [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]) {
    points.push([p, histogram.getValueAtPercentile(p) / 1000]);
  }
  return points;
}

export const encodeHistogram = (histogram: hdr.Histogram) => hdr.encodeIntoCompressedBase64(histogram);
export const decodeHistogram = (encoded: string) => hdr.decodeFromCompressedBase64(encoded);
