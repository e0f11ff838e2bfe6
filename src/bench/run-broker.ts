import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { Registry } from 'prom-client';
import { adapters } from '../composition/adapters.ts';
import { resolveBroker } from './broker-spec.ts';
import { validateConfig } from '../config/load.ts';
import { parseWorkload } from '../simulate/workload.ts';
import { expectMessage, spawnChild, stopChild } from './children.ts';
import type { ConsumerResult, DrainEnd, FromConsumer, FromProducer, ProducerGo, ProducerStart, ToConsumer } from './messages.ts';
import type { ProducerOptions, ProducerReport } from './producer.ts';
import { autoProducers, mergeReports, SummedCounts } from './producer-split.ts';
import { peakRate } from './rate.ts';
import { decodeHistogram, percentileCurve, percentilesMs, type DeliverySummary, type Percentiles } from './recorder.ts';
import type { Phase, RunProgress } from './progress.ts';
import { redactSecrets } from './provenance.ts';
import { PairedCounts } from './sampling.ts';
import { nowMs } from './stamp.ts';

export interface Workload {
  /** The mean offered rate, events/s (of the shape over warm-up + duration, when there is one). */
  rate: number;
  /**
   * The arrivals, as `sluice simulate --workload` takes them (src/simulate/workload.ts); t = 0 is
   * the start of the warm-up. Absent: `constant:<rate>/s`.
   */
  spec?: string;
  /** Seeds Poisson arrivals (`--seed`). */
  seed?: number;
  /** Producer processes (threads on the memory broker); absent: autoProducers() of the peak rate. */
  producers?: number;
  durationS: number;
  warmupS: number;
  messageSize: number;
  keys: number;
  /** uniform (default) or zipf:<s> (`--key-skew`). */
  keySkew?: string;
  partitions: number;
  work: string;
  queueSize?: number;
  poolSize?: number;
  /** How long to wait, after production ends, for the last events (bounded). */
  drainTimeoutS: number;
}

/**
 * One second of a run. `sent` is what the producer had handed to the broker and `delivered` what
 * the consumer had recorded, read so that delivered ≤ sent (sampling.ts); `confirmed` (the
 * broker's acknowledgements) may trail `delivered`. The last point is after the drain, at the time
 * the drain ended: sent = confirmed = the run's `sent`.
 */
export interface SeriesPoint {
  /** Seconds since production started (the warm-up is t < workload.warmupS). */
  t: number;
  sent: number;
  confirmed: number;
  delivered: number;
  /** sent − delivered: in the broker, the client or the gateway's queue. */
  backlog: number;
}

export interface BrokerRun {
  /** The series name: the broker type, with the client when it has one to choose (`kafka (platformatic)`). */
  broker: string;
  workload: Workload;
  queueSize: number;
  poolSize: number;
  /** Delivered events per second over the measured window (after warm-up). */
  throughput: number;
  sent: number;
  delivery: DeliverySummary;
  latencyMs: Percentiles;
  latencyCurve: [number, number][];
  /** End-to-end latency from the broker's timestamp (ms resolution), as `sluice simulate` measures it (absent in older files). */
  fromBrokerMs?: Percentiles;
  publishLatencyMs: Percentiles;
  producerMaxBehindMs: number;
  /** Per second since the start: events confirmed sent, delivered, and the backlog between. */
  series: SeriesPoint[];
  cpuPercent: number;
  peakRssMB: number;
  /** Share of time the consumer's event loop was busy while production ran (absent in older files). */
  loopBusyShare?: number;
  /** The consumer's GC pauses (ms) while production ran (absent in older files). */
  gcPausesMs?: number[];
  pausedSeconds: number;
  /** How the drain after production ended (a timeout makes `delivery.lost` late events, not lost ones). */
  drain?: DrainEnd;
  /** The consumer's effective Sluice config (profile, --set and the bench's overrides, defaults filled in). */
  config?: unknown;
  error?: string;
}

/**
 * Publish calls the bench producer keeps in flight. Pub/Sub's emulator takes 100-300 ms per
 * publish, which must not cap the offered rate: 64. The memory broker's publish is a hand-off: 1.
 * Both Kafka clients send one produce request at a time per broker connection (idempotent:
 * max in flight 1), so a publish beyond the next one only waits in the client's queue, already
 * encoded: with 64 of them (about 32 MB at 1 KB × 500) the platformatic producer alone spent
 * 17-18 µs of CPU per event and offered 45,000-59,000 events/s; with 4, 13.7-14.4 µs and
 * 69,000/s (rate asked 80,000/s, alternating runs, load average 5-6). Four keep the connection busy.
 * HTTP (a POST per publish, answered once processed): with 64 the producer sent ~10-event
 * requests at 1,000/s and its own overhead put p50 at 48 ms at 10,000/s; with 4, batches fill
 * up while the 4 are out, and p50 was 2.4 ms (see adapters/http/README.md).
 */
export function publishesInFlight(broker: string): number {
  return broker === 'memory' ? 1 : broker === 'kafka' || broker === 'http' ? 4 : 64;
}

/**
 * One broker (`kafka`, or `kafka:platformatic` through that client: broker-spec.ts) through one
 * workload: fresh destination, the real Sluice pipeline in a consumer process, the producer in
 * its own process (a worker thread of the consumer for the in-process memory broker), then a
 * bounded drain and the accounting of loss and duplicates.
 */
export async function runBroker(
  spec: string,
  workload: Workload,
  options: { profile?: string; set?: readonly string[]; onProgress?: (progress: RunProgress) => void } = {},
): Promise<BrokerRun> {
  const runStartMs = nowMs();
  const counts = new PairedCounts();
  let latest = { sent: 0, delivered: 0 };
  const progress = (phase: Phase, phaseElapsedS: number) => {
    if (phase !== 'setup') latest = counts.sample();
    options.onProgress?.({ phase, phaseElapsedS, sent: latest.sent, delivered: latest.delivered });
  };
  progress('setup', 0);
  const resolved = await resolveBroker(spec, options.profile, '--brokers', options.set);
  const { raw, config, type: broker, label } = resolved;
  const entry = adapters[broker]!;
  const module = await entry.module();
  const destination = `sluice-bench-${[broker, resolved.client].filter(Boolean).join('-')}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const section = module.retarget(config.broker[broker] as never, destination, `${destination}-group`);
  const adminAdapter = module.createAdapter(section as never, { logger: pino({ level: 'warn' }), registry: new Registry() });
  const admin = adminAdapter.createAdmin();
  const queueSize = workload.queueSize ?? config.queue.maxEvents;
  const poolSize = workload.poolSize ?? config.pool.size;
  let consumer: ChildProcess | undefined;
  const producers: ChildProcess[] = [];
  const shapeSpec = workload.spec ?? `constant:${workload.rate}/s`;
  const peak = peakRate(parseWorkload(shapeSpec), workload.warmupS + workload.durationS);
  const client = (config.broker[broker] as { client?: string } | undefined)?.client;
  const parts = workload.producers ?? autoProducers(broker, client, peak);
  // Until production starts (a Kafka consumer joining its group can take half a minute), the
  // line still moves; the sampler below takes over.
  const setupTicker = setInterval(() => progress('setup', (nowMs() - runStartMs) / 1000), 1000);
  let drainTicker: NodeJS.Timeout | undefined;
  try {
    if (broker !== 'memory') await admin.createDestination(destination, { partitions: workload.partitions });
    const consumerConfig = {
      ...raw,
      broker: { type: broker, [broker]: section },
      queue: { ...(raw.queue as object), maxEvents: queueSize },
      pool: { ...(raw.pool as object), size: poolSize, mode: 'async' },
      handler: { module: 'noop', retry: { maxAttempts: 1 }, timeoutMs: 0 },
      deadLetter: { type: 'none' },
      metrics: { enabled: false },
      log: { level: 'warn', summaryIntervalMs: 0 },
    };
    // What the consumer runs with, defaults filled in, for the JSON / HTML (credentials masked).
    const effectiveConfig = redactSecrets(await validateConfig(consumerConfig));
    consumer = spawnChild('./consumer-process.ts');
    const consumerMessages: FromConsumer[] = [];
    consumer.on('message', (message: FromConsumer) => consumerMessages.push(message));
    consumer.send({ type: 'start', config: consumerConfig, work: workload.work } satisfies ToConsumer);
    await expectMessage(consumer, 'ready', 60_000, `${label} consumer`);

    // Sent and delivered for the same instant, so delivered ≤ sent (sampling.ts says why).
    consumer.on('message', (message: FromConsumer) => {
      if (message.type === 'progress') counts.onDelivered(message.at, message.unique);
      if (message.type === 'producer-progress') counts.onProducer(message);
    });
    const seconds = workload.warmupS + workload.durationS;
    let producerOptions: ProducerOptions = {
      workload: shapeSpec,
      seed: workload.seed ?? 1,
      part: 0,
      parts,
      seconds,
      messageSize: workload.messageSize,
      keys: workload.keys,
      keySkew: workload.keySkew,
      startMs: 0,
      // Sized for the peak: off-peak, a batch is what is due, smaller.
      batchSize: Math.max(1, Math.min(500, Math.round(peak / parts / 100))),
      concurrency: publishesInFlight(broker),
    };
    let producerDone: Promise<{ report: ProducerReport }>;
    if (broker === 'memory') {
      producerOptions = { ...producerOptions, startMs: nowMs() + 500 };
      producerDone = expectMessage<{ type: string; report: ProducerReport }>(
        consumer,
        'producer-done',
        (seconds + 120) * 1000,
        'memory producer',
      );
      consumer.send({
        type: 'begin',
        startMs: producerOptions.startMs,
        warmupEndMs: producerOptions.startMs + workload.warmupS * 1000,
        producer: { ...producerOptions, destination },
      } satisfies ToConsumer);
    } else {
      // Producer k of N sends events i ≡ k (mod N): one sequence space (producer-split.ts).
      const summed = new SummedCounts(parts);
      const readies: Promise<unknown>[] = [];
      for (let part = 0; part < parts; part++) {
        const child = spawnChild('./producer-process.ts');
        producers.push(child);
        child.on('message', (message: FromProducer) => {
          if (message.type === 'progress') counts.onProducer(summed.update(part, message));
        });
        readies.push(expectMessage(child, 'ready', 60_000, `${label} producer ${part + 1}/${parts}`));
      }
      for (const [part, child] of producers.entries()) {
        child.send({
          type: 'start',
          brokerType: broker,
          section,
          destination,
          options: { ...producerOptions, part },
        } satisfies ProducerStart);
      }
      // Every producer connected first (several take seconds on a busy machine); then the
      // consumer's clock and fresh recorder, then the producers' start, a moment later.
      await Promise.all(readies);
      producerOptions = { ...producerOptions, startMs: nowMs() + 500 };
      consumer.send({
        type: 'begin',
        startMs: producerOptions.startMs,
        warmupEndMs: producerOptions.startMs + workload.warmupS * 1000,
      } satisfies ToConsumer);
      for (const child of producers) child.send({ type: 'go', startMs: producerOptions.startMs } satisfies ProducerGo);
      producerDone = Promise.all(
        producers.map((child, part) =>
          expectMessage<{ type: string; report: ProducerReport }>(
            child,
            'done',
            (seconds + 120) * 1000,
            `${label} producer ${part + 1}/${parts}`,
          ),
        ),
      ).then((done) => ({ report: mergeReports(done.map((d) => d.report)) }));
    }

    const series: SeriesPoint[] = [];
    clearInterval(setupTicker);
    const sampler = setInterval(() => {
      const t = (nowMs() - producerOptions.startMs) / 1000;
      if (t < 0) return progress('setup', (nowMs() - runStartMs) / 1000);
      const { sent, confirmed, delivered } = counts.sample();
      series.push({ t: Math.round(t), sent, confirmed, delivered, backlog: sent - delivered });
      if (t < workload.warmupS) progress('warm-up', t);
      else progress('measure', t - workload.warmupS);
    }, 1000);
    let report: ProducerReport;
    try {
      report = (await producerDone).report;
    } finally {
      clearInterval(sampler);
    }
    counts.producerDone(report.taken, report.sent);
    const drainStartMs = nowMs();
    progress('drain', 0);
    drainTicker = setInterval(() => progress('drain', (nowMs() - drainStartMs) / 1000), 1000);
    consumer.send({
      type: 'drain',
      taken: report.taken,
      failedRanges: report.failedRanges,
      quietMs: Math.min(10_000, (workload.drainTimeoutS * 1000) / 2),
      timeoutMs: workload.drainTimeoutS * 1000,
    } satisfies ToConsumer);
    const { result } = await expectMessage<{ type: 'result'; result: ConsumerResult }>(
      consumer,
      'result',
      (workload.drainTimeoutS + 30) * 1000,
      `${label} consumer drain`,
    ).finally(() => clearInterval(drainTicker));
    // The drain's end at its own time (at least a second after the last sample): numbered one past
    // the last sample, it could take the number of the window's end and show a backlog of 0 there.
    const drainedAt = Math.round((nowMs() - producerOptions.startMs) / 1000);
    series.push({
      t: Math.max(series.length ? series[series.length - 1]!.t + 1 : 0, drainedAt),
      sent: report.sent,
      confirmed: report.sent,
      delivered: result.summary.unique,
      backlog: Math.max(0, report.sent - result.summary.unique),
    });
    const window = result.perSecond.slice(workload.warmupS, workload.warmupS + workload.durationS);
    const latency = decodeHistogram(result.latency);
    return {
      broker: label,
      workload: { ...workload, spec: shapeSpec, producers: parts },
      queueSize,
      poolSize,
      throughput: window.length ? window.reduce((a, b) => a + b, 0) / workload.durationS : 0,
      sent: report.sent,
      delivery: result.summary,
      latencyMs: percentilesMs(latency),
      latencyCurve: percentileCurve(latency),
      fromBrokerMs: percentilesMs(decodeHistogram(result.fromBroker)),
      publishLatencyMs: percentilesMs(decodeHistogram(report.publishLatency)),
      producerMaxBehindMs: report.maxBehindMs,
      series,
      cpuPercent: result.cpuPercent,
      peakRssMB: result.peakRssMB,
      loopBusyShare: result.loopBusyShare,
      gcPausesMs: result.gcPausesMs,
      pausedSeconds: result.processing.pausedSeconds,
      drain: result.drain,
      config: effectiveConfig,
    };
  } finally {
    clearInterval(setupTicker);
    clearInterval(drainTicker);
    await Promise.all(producers.map((child) => stopChild(child)));
    await stopChild(consumer, { type: 'stop' });
    if (broker !== 'memory') await admin.deleteDestination(destination).catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
}
