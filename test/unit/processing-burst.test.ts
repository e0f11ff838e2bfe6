// The processor reads the clock once per burst of quick synchronous events instead of once per
// event (EventProcessor.settle). What users rely on must not change with it: every processed event
// is in both histograms by the time anything else runs, quick events land in the first bucket,
// and a slow event among quick ones is counted as one slow observation, as per-event reads count it.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import type { Pipeline } from '../../src/core/pipeline.ts';
import type { Handler } from '../../src/handler/handler.ts';
import { DURATION_BUCKETS, type FastHistogram } from '../../src/util/fast-histogram.ts';
import { eventually, memoryPipeline, numbered, seqOf } from './helpers.ts';

/** Observations above `seconds` (bucket bounds: `seconds` must be one of DURATION_BUCKETS). */
function above(histogram: FastHistogram, seconds: number): number {
  const index = DURATION_BUCKETS.indexOf(seconds);
  let count = 0;
  for (let i = index + 1; i < histogram.counts.length; i++) count += histogram.counts[i]!;
  return count;
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Pipelines {@link drain} started, stopped after each test (their stats are read while they run). */
const running: Pipeline[] = [];
afterEach(async () => {
  for (const pipeline of running.splice(0)) await pipeline.stop();
});

/**
 * `events` numbered events through a memory pipeline with `handler`; its stats as soon as the last
 * was processed, before anything (a stop) could settle them.
 */
async function drain(events: number, handler: Handler, options: Parameters<typeof memoryPipeline>[2] = {}) {
  const broker = new MemoryBroker();
  await broker.publish('events', numbered(events));
  const { pipeline } = memoryPipeline(broker, handler, options);
  running.push(pipeline);
  await pipeline.start();
  await eventually(() => pipeline.stats.processed.success === events, 20_000, `${events} events processed`);
  return pipeline.stats;
}

describe('processing bursts (one clock read for many quick synchronous events)', () => {
  it('observes every event of a quick synchronous backlog once in each histogram, before the pool waits again', async () => {
    const { processingSeconds, endToEndSeconds } = await drain(5_000, () => undefined, {
      queue: { maxEvents: 2_000, maxBytes: 1 << 24, policy: 'block' },
    });
    // Counted on the event that made `success` reach 5,000: the pool settled before yielding.
    expect(processingSeconds.count).toBe(5_000);
    expect(endToEndSeconds.count).toBe(5_000);
    // A no-op takes far less than 100 µs: (nearly) all in the first bucket, the sum well under it.
    expect(above(processingSeconds, 0.0001)).toBeLessThan(50);
    expect(processingSeconds.sum / processingSeconds.count).toBeLessThan(0.0001);
  });

  it('counts a slow event among quick ones as one slow observation', async () => {
    const slow = new Set([700, 1_400]);
    const { processingSeconds } = await drain(2_000, (event) => {
      if (slow.has(seqOf(event.payload))) spin(3);
    });
    expect(processingSeconds.count).toBe(2_000);
    // Each 3 ms event is one observation above 2.5 ms; the quick ones around it are not dragged up.
    expect(above(processingSeconds, 0.0025)).toBe(2);
    expect(above(processingSeconds, 0.001)).toBeLessThanOrEqual(2 + 5);
    expect(processingSeconds.sum).toBeGreaterThanOrEqual(0.006);
  });

  it('times a handler that turns asynchronous after a run of synchronous ones from the burst end', async () => {
    const { processingSeconds, endToEndSeconds } = await drain(
      1_000,
      (event) => {
        // Every 100th event waits 20 ms without blocking: its duration is its own, ≥ 20 ms.
        if (seqOf(event.payload) % 100 === 0) return new Promise((resolve) => setTimeout(resolve, 20));
      },
      { pool: { size: 1, orderByKey: false } },
    );
    expect(processingSeconds.count).toBe(1_000);
    expect(endToEndSeconds.count).toBe(1_000);
    expect(above(processingSeconds, 0.01)).toBe(10);
    expect(above(processingSeconds, 0.001)).toBeLessThanOrEqual(10 + 5);
  });
});
