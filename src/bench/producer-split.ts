// Several bench producers, one sequence space: producer k of N sends events i ≡ k (mod N) at their
// intended times (rate.ts), so the consumer's loss and duplicate accounting (recorder.ts) sees one
// run. Here: how many producers a rate needs, and their counts and reports added up.
import { decodeHistogram, encodeHistogram, latencyHistogram } from './recorder.ts';
import type { ProducerReport } from './producer.ts';
import type { ProducerCounts } from './sampling.ts';

/**
 * One kafkajs producer offers about 23,000 events/s of 1 KiB on this project's machines (issue
 * #15), so Kafka gets one producer process per 20,000/s of the shape's peak. The memory broker's
 * one producer thread offered 160,000/s; the other brokers' emulators are slower than one
 * producer: one.
 */
export function autoProducers(brokerType: string, peakRate: number): number {
  if (brokerType === 'kafka') return Math.max(1, Math.ceil(peakRate / 20_000));
  return 1;
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
