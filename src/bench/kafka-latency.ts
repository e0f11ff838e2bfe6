/**
 * `bench:kafka`'s latency phase (kafka-bench.ts, step 3): a producer in a child process of its
 * own publishes at a fixed rate, open loop (each event carries its intended send time), into a
 * fresh topic while Sluice consumes it as `sluice run` would; p50/p99/p99.9/max from the intended
 * send to the end of the handler (HDR histogram, the first two seconds left out), split at the
 * record's timestamp into the producer's share and the consumer's.
 */
import { spawn } from 'node:child_process';
import type { Publisher, SourceEvent } from '../broker/contract.ts';
import type { BrokerAdmin } from '../broker/tooling.ts';
import { childExecArgv } from '../util/runtime.ts';
import { type BenchSluice, waitUntil } from './bench-support.ts';
import { LatencySplit, ms, publishAtRate, readStamp } from './open-loop.ts';

/** What the phase needs from the bench: the stream's settings and how to start each side. */
export interface LatencyRun {
  brokers: string;
  rate: number;
  seconds: number;
  payloadBytes: number;
  partitions: number;
  /** The bench's run id: the topic's name. */
  run: string;
  /** The bench's own module, started with `--produce-to` as the producer's process ({@link produceAtRate}). */
  benchModule: string;
  startSluice(topic: string, handle: (event: SourceEvent) => void): Promise<BenchSluice>;
  publisherFor(topic: string): Promise<Publisher>;
}

/** The phase's figures, as the bench prints them and puts them in its JSON. */
export interface LatencyResult {
  rate: number;
  achievedRate: number;
  /** Events measured: the stream without its first two seconds. */
  events: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Intended send → record timestamp (the producer's share: batching, acks). */
  producerP50Ms: number;
  producerP99Ms: number;
  /** Record timestamp → end of the handler (the consumer's share: fetch, queue, pool). */
  consumerP50Ms: number;
  consumerP99Ms: number;
}

/** Open-loop producer at `rate` for `seconds` while Sluice consumes; latency from intended send time. */
export async function latencyAtRate(settings: LatencyRun, admin: BrokerAdmin): Promise<LatencyResult> {
  const { rate, seconds } = settings;
  const topic = `bench-latency-${settings.run}`;
  await admin.createDestination(topic, { partitions: settings.partitions });
  const split = new LatencySplit();
  const total = rate * seconds;
  const warmup = rate * 2; // the first two seconds are not measured
  let handled = 0;
  const sluice = await settings.startSluice(topic, (event) => {
    const { intended, seq } = readStamp(event.payload);
    // The record's timestamp (set by the producer when it sends, ms) splits the path in two.
    if (seq >= warmup) split.record(intended, event.timestamp);
    handled++;
  });
  try {
    // The producer runs in a process of its own, so that it neither slows Sluice down nor is held
    // up by it: both would distort the latency.
    const origin = performance.timeOrigin + performance.now() + 500;
    const { achievedRate } = await producerProcess(settings, topic, origin);
    await waitUntil('Sluice to process the fixed-rate stream', () => handled >= total, 120_000);
    const { total: histogram, producer: producerSide, consumer: consumerSide } = split;
    return {
      rate,
      achievedRate,
      events: total - warmup,
      p50Ms: ms(histogram.getValueAtPercentile(50)),
      p99Ms: ms(histogram.getValueAtPercentile(99)),
      p999Ms: ms(histogram.getValueAtPercentile(99.9)),
      maxMs: ms(histogram.maxValue),
      producerP50Ms: ms(producerSide.getValueAtPercentile(50)),
      producerP99Ms: ms(producerSide.getValueAtPercentile(99)),
      consumerP50Ms: ms(consumerSide.getValueAtPercentile(50)),
      consumerP99Ms: ms(consumerSide.getValueAtPercentile(99)),
    };
  } finally {
    await sluice.stop();
    await admin.deleteDestination(topic).catch(() => undefined);
  }
}

/** Starts the bench's module as the producer ({@link produceAtRate}) and reads the rate it achieved. */
async function producerProcess(settings: LatencyRun, topic: string, origin: number): Promise<{ achievedRate: number }> {
  const child = spawn(
    process.execPath,
    [
      ...childExecArgv(),
      settings.benchModule,
      ...['--produce-to', topic, '--origin', String(origin), '--rate', String(settings.rate), '--seconds', String(settings.seconds)],
      ...['--payload', String(settings.payloadBytes), '--brokers', settings.brokers],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench: the producer process exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as { achievedRate: number };
}

/** The producer's process: publishes `rate` events/s for `seconds` from `origin`, each stamped with its intended send time; prints the rate achieved. */
export async function produceAtRate(
  settings: Pick<LatencyRun, 'rate' | 'seconds' | 'payloadBytes' | 'publisherFor'>,
  topic: string,
  origin: number,
): Promise<number> {
  const publisher = await settings.publisherFor(topic);
  await publisher.connect();
  const loop = {
    rate: settings.rate,
    seconds: settings.seconds,
    payloadBytes: settings.payloadBytes,
    origin,
    key: (seq: number) => `key-${seq % 1000}`,
    awaitEach: true,
  };
  const { achievedRate } = await publishAtRate(publisher, topic, loop);
  await publisher.close();
  process.stdout.write(`${JSON.stringify({ achievedRate })}\n`);
  return 0;
}
