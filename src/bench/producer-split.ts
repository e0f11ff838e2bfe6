// Several bench producers, one sequence space: producer k of N sends events i ≡ k (mod N) at their
// intended times (rate.ts), so the consumer's loss and duplicate accounting (recorder.ts) sees one
// run. Here: how many producers a rate needs, and their counts and reports added up.
import { availableParallelism } from 'node:os';
import { decodeHistogram, encodeHistogram, latencyHistogram } from './recorder.ts';
import type { ProducerReport } from './producer.ts';
import type { ProducerCounts } from './sampling.ts';

/**
 * Producers for a peak rate. One kafkajs producer offers about 19,000-23,000 events/s of 1 KiB
 * (62 µs of CPU per event; `npm run bench:kafka-producer`), one platformatic producer about
 * 50,000/s (19 µs per event), both measured on this project's 2-CPU machine under load: Kafka
 * gets one producer process per 20,000/s (kafkajs) or 40,000/s (platformatic) of the peak, at
 * most one per CPU but one (the producers are CPU-bound, and the consumer needs a CPU: on 2 CPUs,
 * a full bench at 50,000/s through platformatic delivered about 25,000/s with one producer and
 * 22,700/s with two). The memory broker's one producer thread offered 160,000/s; the other
 * brokers' emulators are slower than one producer.
 */
export function autoProducers(brokerType: string, client: string | undefined, peakRate: number, cpus = availableParallelism()): number {
  if (brokerType !== 'kafka') return 1;
  const perProducer = client === 'platformatic' ? 40_000 : 20_000;
  return Math.max(1, Math.min(cpus - 1, Math.ceil(peakRate / perProducer)));
}

/** The latest counts of each producer, added up. */
export class SummedCounts {
  private readonly latest: ProducerCounts[];

  constructor(parts: number) {
    this.latest = Array.from({ length: parts }, () => ({ at: -Infinity, published: 0, confirmed: 0 }));
  }

  /**
   * Producer `part` reported; the sum, read at the oldest of the latest reads: counts only grow,
   * so each is at least what it was then, and pairing a delivered count read no later than that
   * keeps delivered ≤ sent (sampling.ts).
   */
  update(part: number, counts: ProducerCounts): ProducerCounts {
    if (counts.at >= this.latest[part]!.at) this.latest[part] = counts;
    return {
      at: Math.min(...this.latest.map((c) => c.at)),
      published: this.latest.reduce((sum, c) => sum + c.published, 0),
      confirmed: this.latest.reduce((sum, c) => sum + c.confirmed, 0),
    };
  }
}

/** The producers' reports as one: events add up, the histograms merge, the worst delay wins. */
export function mergeReports(reports: ProducerReport[]): ProducerReport {
  if (reports.length === 1) return reports[0]!;
  const publishLatency = latencyHistogram();
  const perSecond: number[] = [];
  for (const report of reports) {
    publishLatency.add(decodeHistogram(report.publishLatency));
    report.perSecond.forEach((count, second) => {
      perSecond[second] = (perSecond[second] ?? 0) + count;
    });
  }
  return {
    sent: reports.reduce((sum, r) => sum + r.sent, 0),
    taken: reports.reduce((sum, r) => sum + r.taken, 0),
    failedRanges: reports.flatMap((r) => r.failedRanges),
    publishLatency: encodeHistogram(publishLatency),
    perSecond: Array.from(perSecond, (count) => count ?? 0),
    maxBehindMs: Math.max(...reports.map((r) => r.maxBehindMs)),
  };
}
