import type { OutgoingEvent } from '../broker/contract.ts';
import { keySampler } from '../simulate/keys.ts';
import type { Random } from '../simulate/random.ts';
import { parseWorkload } from '../simulate/workload.ts';
import { OpenLoopSchedule } from './rate.ts';
import { encodeHistogram, latencyHistogram } from './recorder.ts';
import type { ProducerCounts } from './sampling.ts';
import { nowMs, stamp } from './stamp.ts';

export interface ProducerOptions {
  /** The `--workload` spec (parsed here again: src/simulate/workload.ts), e.g. `constant:10000/s`. */
  workload: string;
  /** Seeds Poisson arrivals: every producer of a run uses the same one. */
  seed: number;
  /** This producer's share of the sequence space: events i ≡ part (mod parts). */
  part: number;
  parts: number;
  /** Seconds of production, warm-up included. */
  seconds: number;
  messageSize: number;
  keys: number;
  /** How keys are drawn: uniform (key seq mod keys) or zipf:<s>, as `sluice simulate --key-skew`. */
  keySkew?: string;
  startMs: number;
  /** Events per publish call, at most. */
  batchSize: number;
  /** Publish calls in flight at once (pipelining, as real producers do). */
  concurrency: number;
}

/** Sequence numbers first, first + stride, … (count of them); the stride is 1 when absent. */
export type FailedRange = [first: number, count: number, stride?: number];

export interface ProducerReport {
  /** Events the broker confirmed. */
  sent: number;
  /** Sequence numbers handed out (sent + failed). */
  taken: number;
  /** Batches the broker refused; these are not expected downstream. */
  failedRanges: FailedRange[];
  /** Publish latency (call to broker confirmation), encoded HDR histogram in µs. */
  publishLatency: string;
  /** Events confirmed per second since start. */
  perSecond: number[];
  /** How far behind schedule the producer fell at worst, ms (a saturated producer shows here). */
  maxBehindMs: number;
}

/**
 * The load side of `sluice bench`: open loop along the workload's shape, each event stamped with
 * its sequence number and intended send time. Runs in its own process or thread, apart from the
 * consumer; several of them split one sequence space (rate.ts OpenLoopSchedule).
 */
export async function runProducer(
  publish: (events: OutgoingEvent[]) => Promise<void>,
  options: ProducerOptions,
  onProgress: (counts: ProducerCounts) => void,
): Promise<ProducerReport> {
  const schedule = new OpenLoopSchedule(parseWorkload(options.workload), options.startMs, options.seconds, options);
  const filler = Buffer.alloc(options.messageSize, 'sluice-bench;');
  const keys = Array.from({ length: Math.max(0, options.keys) }, (_, i) => `key-${i}`);
  const keyOf = keyOfSeq(keys.length, options.keySkew ?? 'uniform');
  const publishLatency = latencyHistogram();
  const perSecond: number[] = [];
  let sent = 0;
  const failedRanges: FailedRange[] = [];
  let maxBehindMs = 0;
  const inFlight = new Set<Promise<void>>();
  // Read together, with the time: the orchestrator pairs them with the consumer's (sampling.ts).
  const report = () => onProgress({ at: nowMs(), published: schedule.taken, confirmed: sent });
  const progress = setInterval(report, 250);

  const waitMs = options.startMs - nowMs();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  while (!schedule.finished) {
    const now = nowMs();
    const { first, count, stride, intendedMs } = schedule.take(now, options.batchSize);
    if (count === 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5, schedule.nextDueMs() - now))));
      continue;
    }
    maxBehindMs = Math.max(maxBehindMs, now - intendedMs[0]!);
    const batch = new Array<OutgoingEvent>(count);
    for (let i = 0; i < count; i++) {
      const seq = first + i * stride;
      batch[i] = { key: keys.length ? keys[keyOf(seq)] : undefined, payload: stamp(filler, seq, intendedMs[i]!) };
    }
    const started = nowMs();
    const call = publish(batch).then(
      () => {
        const done = nowMs();
        publishLatency.recordValue(Math.max(1, Math.round((done - started) * 1000)));
        sent += count;
        const second = Math.max(0, Math.floor((done - options.startMs) / 1000));
        while (perSecond.length <= second) perSecond.push(0);
        perSecond[second]! += count;
      },
      () => void failedRanges.push(stride === 1 ? [first, count] : [first, count, stride]),
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  clearInterval(progress);
  report();
  return {
    sent,
    taken: schedule.taken,
    failedRanges,
    publishLatency: encodeHistogram(publishLatency),
    perSecond,
    maxBehindMs: Math.round(maxBehindMs),
  };
}

/**
 * The key index of event `seq`: round-robin when uniform (as before), else simulate's own
 * sampler (src/simulate/keys.ts) fed a hash of `seq`, so every producer of a run gives an event
 * the same key whichever of them sends it, and the skew is the one the model draws from.
 */
export function keyOfSeq(count: number, skew: string): (seq: number) => number {
  if (skew === 'uniform' || count === 0) return (seq) => seq % Math.max(1, count);
  let u = 0;
  const sampler = keySampler(count, skew, { next: () => u } as Random, '--key-skew');
  return (seq) => {
    let h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    u = ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
    return sampler.next();
  };
}
