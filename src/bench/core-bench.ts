import pino from 'pino';
import { Registry } from 'prom-client';
import { LoadGenerator } from '../broker/load-generator.ts';
import type { OutgoingEvent } from '../broker/contract.ts';
import type { ToolingAdapter } from '../broker/tooling.ts';
import { Pipeline } from '../core/pipeline.ts';
import type { Handler } from '../handler/handler.ts';
import { noopHandler } from '../handler/load.ts';
import { registerPipelineMetrics } from '../metrics/prometheus.ts';
import type { EventTracer } from '../tracing/event-tracer.ts';
import { isolatedMemory } from './bench-adapters.ts';

/** A memory broker of its own with a backlog limit of `maxBacklog`, read from `topic` as group `bench`. */
export const memoryBroker = (topic: string, maxBacklog: number) =>
  isolatedMemory({ topic, partitions: 4, group: 'bench', startFrom: 'earliest', nackDelayMs: 100, commitIntervalMs: 200, maxBacklog });

/**
 * `npm run bench:core`: the core's own cost, with no broker I/O. Three phases in one process:
 *  1. throughput: a backlog of `events` in the memory broker drained through queue → pool → noop;
 *  2. latency: a fixed 100,000 events/s from a live generator, end-to-end p99;
 *  3. overload: a producer 10x faster than a slow handler; memory must stay flat (the producer is
 *     paused by the broker's bounded backlog, the source by the bounded queue).
 * The last line printed is one JSON object with the figures.
 */
export async function runCoreBench(options: { events: number; payloadSize: number; overload: boolean }): Promise<number> {
  const logger = pino({ level: 'warn' });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const payload = Buffer.alloc(options.payloadSize, 'x');
  const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);

  // Phase 1: throughput over a backlog.
  const broker = await memoryBroker('bench', options.events + 1);
  const publisher = broker.createPublisher();
  const batch: OutgoingEvent[] = [];
  for (let i = 0; i < 10_000; i++) batch.push({ key: keys[i % keys.length], payload });
  for (let published = 0; published < options.events; published += batch.length) {
    await publisher.publish('bench', batch.slice(0, Math.min(batch.length, options.events - published)));
  }
  const throughput = await drain(broker, options.events, noopHandler, logger);
  process.stderr.write(
    `throughput: ${Math.round(throughput.eventsPerSecond).toLocaleString('en-US')} events/s (${throughput.nsPerEvent.toFixed(0)} ns/event)\n`,
  );
  await broker.createAdmin().deleteDestination('bench');
  global.gc?.();

  // Phase 2: end-to-end latency at a fixed rate.
  const latency = await fixedRate(100_000, 3_000, options.payloadSize, logger);
  process.stderr.write(`latency at 100,000 events/s: p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms\n`);

  // Phase 3: 10x overload.
  const overload = options.overload ? await overloadRun(options.payloadSize, logger) : undefined;
  if (overload) {
    process.stderr.write(
      `overload: handler capacity ~${overload.handlerCapacityPerSecond}/s, producer asked ${overload.producerTargetPerSecond}/s, ` +
        `rss ${overload.rssStartMB} → ${overload.rssEndMB} MB, queue max ${overload.queueMaxDepth}/${overload.queueCapacity}, source paused ${overload.pausedPercent}%\n`,
    );
  }
  clearInterval(sampler);
  const result = {
    events: options.events,
    payloadBytes: options.payloadSize,
    eventsPerSecond: Math.round(throughput.eventsPerSecond),
    nsPerEvent: Math.round(throughput.nsPerEvent),
    p99LatencyMs: Number(latency.p99Ms.toFixed(3)),
    p50LatencyMs: Number(latency.p50Ms.toFixed(3)),
    peakRssMB: Math.round(peakRss / 1024 / 1024),
    overload,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

function pipelineFor(
  broker: ToolingAdapter,
  handler: Handler,
  logger: pino.Logger,
  queue = 10_000,
  pool = 16,
  tracer?: EventTracer,
  activeSpan = false,
) {
  const source = broker.createSource();
  const pipeline = new Pipeline(
    {
      broker: 'memory',
      queue: { maxEvents: queue, maxBytes: 64 << 20, policy: 'block' },
      pool: { size: pool, orderByKey: false },
      shutdownTimeoutMs: 10_000,
      stallTimeoutMs: 60_000,
    },
    // The bench's handlers are built-ins (noop) or stand-ins for them: no active span, as `sluice
    // run` runs a built-in, unless a caller asks (bench:tracing --user-handler).
    { source, handler, logger, tracer, activeSpan },
  );
  // Metrics on, as in production: the collectors read the pipeline's counters when scraped.
  registerPipelineMetrics(new Registry(), pipeline, 'memory');
  return pipeline;
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * One pipeline for many drains, as a running Sluice has one: started once over `topic`, then each
 * {@link drainNext} appends a backlog in one synchronous publish (the source reads it only once
 * it is all there) and waits until the pipeline has completed it. Building a pipeline per drain
 * measured V8 as much as the code: its optimized code, specialized on the last round's objects,
 * was thrown away at the next GC and the next short round ran partly unoptimized.
 */
export async function lastingPipeline(
  broker: ToolingAdapter,
  topic: string,
  handler: Handler,
  logger: pino.Logger,
  tracer?: EventTracer,
  activeSpan = false,
) {
  const pipeline = pipelineFor(broker, handler, logger, 10_000, 16, tracer, activeSpan);
  await pipeline.start();
  const publisher = broker.createPublisher();
  return {
    /** Publishes `backlog` at once, then drains it; the clock and `measure` start once it is published. */
    async drainNext<T>(backlog: readonly OutgoingEvent[], measure: () => T): Promise<{ eventsPerSecond: number; measured: T }> {
      const target = pipeline.stats.completed + backlog.length;
      // The memory broker appends synchronously (while its backlog has room): when the call
      // returns the backlog is all there and the source has not read any of it yet.
      const published = publisher.publish(topic, backlog);
      // The backlog is in the broker before the clock starts, as a real broker's is in another
      // process: its records are promoted to the old generation now (with --expose-gc, as the
      // benches run), not by the drain's first scavenges. Left to them, copying a young
      // generation full of just-published records made rounds bimodal (scavenges of one run
      // took 1.3 s against 0.35 s in another of the same mode and events).
      globalThis.gc?.();
      const started = performance.now();
      const measured = measure();
      await published;
      await waitFor(() => pipeline.stats.completed >= target);
      return { eventsPerSecond: backlog.length / ((performance.now() - started) / 1000), measured };
    },
    stop: () => pipeline.stop(),
  };
}

/** Drains a backlog of `events` through the core (bench:tracing runs it with a tracer). */
export async function drain(broker: ToolingAdapter, events: number, handler: Handler, logger: pino.Logger, tracer?: EventTracer) {
  const pipeline = pipelineFor(broker, handler, logger, 10_000, 16, tracer);
  const started = performance.now();
  await pipeline.start();
  await waitFor(() => pipeline.stats.completed >= events);
  const seconds = (performance.now() - started) / 1000;
  await pipeline.stop();
  return { eventsPerSecond: events / seconds, nsPerEvent: (seconds * 1e9) / events };
}

async function fixedRate(rate: number, durationMs: number, payloadSize: number, logger: pino.Logger) {
  const broker = await memoryBroker('latency', 100_000);
  const pipeline = pipelineFor(broker, noopHandler, logger);
  await pipeline.start();
  const total = Math.round((rate * durationMs) / 1000);
  const generator = new LoadGenerator(broker.createPublisher(), {
    destination: 'latency',
    rate,
    payloadSize,
    keys: 1000,
    total,
    batchSize: 500,
  });
  generator.start();
  await generator.done();
  await waitFor(() => pipeline.stats.completed >= total);
  await pipeline.stop();
  const e2e = pipeline.stats.endToEndSeconds;
  return { p50Ms: e2e.quantile(0.5) * 1000, p99Ms: e2e.quantile(0.99) * 1000 };
}

async function overloadRun(payloadSize: number, logger: pino.Logger) {
  const pool = 16;
  const workMs = 2;
  const handlerCapacity = Math.round((pool * 1000) / workMs);
  const broker = await memoryBroker('overload', 20_000);
  const slow: Handler = () => new Promise((resolve) => setTimeout(resolve, workMs));
  const pipeline = pipelineFor(broker, slow, logger, 5_000, pool);
  await pipeline.start();
  const generator = new LoadGenerator(broker.createPublisher(), {
    destination: 'overload',
    rate: handlerCapacity * 10,
    payloadSize,
    keys: 1000,
    total: 0,
    batchSize: 1000,
  });
  generator.start();
  let queueMax = 0;
  const samples: number[] = [];
  const started = performance.now();
  while (performance.now() - started < 8_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    queueMax = Math.max(queueMax, pipeline.queue.depth);
    samples.push(process.memoryUsage().rss);
  }
  const seconds = (performance.now() - started) / 1000;
  void generator.stop();
  await pipeline.stop();
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  // Compare the second second with the last: warm-up allocations are not growth.
  return {
    handlerCapacityPerSecond: handlerCapacity,
    producerTargetPerSecond: handlerCapacity * 10,
    publishedPerSecond: Math.round(generator.published / seconds),
    processedPerSecond: Math.round(pipeline.stats.completed / seconds),
    rssStartMB: mb(samples[4] ?? samples[0]!),
    rssEndMB: mb(samples[samples.length - 1]!),
    queueMaxDepth: queueMax,
    queueCapacity: 5_000,
    pausedPercent: Math.min(100, Math.round((pipeline.stats.pausedSeconds / seconds) * 100)),
  };
}
