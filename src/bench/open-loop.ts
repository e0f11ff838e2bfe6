/**
 * The open-loop latency pieces the broker benchmarks share: a producer that publishes at a fixed
 * rate, each payload stamped with its *intended* send time (so a stalled consumer or broker cannot
 * hide its delay by slowing the producer down: coordinated omission), and the HDR histograms that
 * split the path at the broker's timestamp.
 */
import * as hdr from 'hdr-histogram-js';
import type { OutgoingEvent, Publisher } from '../broker/contract.ts';
import { sleep } from '../util/sleep.ts';

/** An HDR histogram of microseconds, up to an hour, 3 significant digits. */
export const latencyHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** Microseconds to milliseconds, two decimals. */
export const ms = (us: number): number => Number((us / 1000).toFixed(2));

/** The stamp's fields: intended send time (ms since the epoch, double LE at 0) and sequence number (u32 LE at 8). */
export function readStamp(payload: Buffer): { intended: number; seq: number } {
  return { intended: payload.readDoubleLE(0), seq: payload.readUInt32LE(8) };
}

/** Intended send → handler, split at the broker's timestamp into the producer's and the consumer's share. */
export class LatencySplit {
  readonly total = latencyHistogram();
  readonly producer = latencyHistogram();
  readonly consumer = latencyHistogram();

  /** Records one event handled now; `brokerMs` is its broker timestamp (append / publish time). */
  record(intended: number, brokerMs: number): void {
    const now = performance.timeOrigin + performance.now();
    this.total.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
    this.producer.recordValue(Math.max(1, Math.round((brokerMs - intended) * 1000)));
    this.consumer.recordValue(Math.max(1, Math.round((now - brokerMs) * 1000)));
  }
}

export interface OpenLoop {
  rate: number;
  seconds: number;
  payloadBytes: number;
  /** Time 0 of the schedule, ms since the epoch. */
  origin: number;
  /** The key of event `seq`, if any. */
  key?: (seq: number) => string | undefined;
  /**
   * Await each publish before the next (Kafka: its publisher batches by itself), or keep them
   * in flight (Pub/Sub: open loop all the way down; a failed publish is counted, not fatal).
   */
  awaitEach: boolean;
}

/** Publishes `rate` events/s for `seconds` from `origin`, each stamped; returns the achieved rate and failed publish calls. */
export async function publishAtRate(
  publisher: Publisher,
  destination: string,
  loop: OpenLoop,
): Promise<{ achievedRate: number; failed: number }> {
  const total = loop.rate * loop.seconds;
  const pending: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const now = performance.timeOrigin + performance.now();
    const due = Math.min(total, Math.floor(((now - loop.origin) / 1000) * loop.rate)) - sent;
    if (due <= 0) {
      await sleep(loop.awaitEach ? 1 : 2);
      continue;
    }
    const batch = new Array<OutgoingEvent>(due);
    for (let i = 0; i < due; i++) {
      const seq = sent + i;
      const payload = Buffer.alloc(loop.payloadBytes, 'x');
      payload.writeDoubleLE(loop.origin + (seq * 1000) / loop.rate, 0); // intended send time
      payload.writeUInt32LE(seq, 8);
      const key = loop.key?.(seq);
      batch[i] = key === undefined ? { payload } : { key, payload };
    }
    const published = publisher.publish(destination, batch);
    if (loop.awaitEach) await published;
    else pending.push(published);
    sent += due;
  }
  const failed = (await Promise.allSettled(pending)).filter((result) => result.status === 'rejected').length;
  const seconds = (performance.timeOrigin + performance.now() - loop.origin) / 1000;
  return { achievedRate: Math.round(total / seconds), failed };
}
