/**
 * `npm run bench:kafka`: what Sluice costs on top of each Kafka client library, against a real Kafka.
 *
 *  1. A backlog of `--events` 1 KB events is produced once, with Sluice's batched publisher, into
 *     a fresh topic of 4 partitions.
 *  2. The backlog is consumed `--rounds` times by each contender, alternating, each time by a
 *     fresh consumer group: per library of `--clients` (kafkajs, platformatic), the bare client
 *     that only counts (kafka-bare.ts), then Sluice on that client (source → queue → pool → a
 *     handler that only counts, committing as in production). Rates are taken from the first
 *     event to the last, so joining the group is not counted; the best round of each gives the
 *     ratio Sluice / bare of the same library. The process CPU time per event is reported too:
 *     on a shared machine it is steadier than wall-clock rates.
 *  3. End-to-end latency at a fixed `--rate`: a producer in a child process publishes at that
 *     rate (open loop: each event carries its intended send time) into a second fresh topic while
 *     Sluice consumes it; p50/p99/max from intended send to the end of the handler (HDR
 *     histogram, first two seconds excluded), split at the record timestamp into the producer's
 *     and the consumer's share.
 *
 * Human-readable lines go to stderr; the last line on stdout is one JSON object with the figures.
 *   npm run bench:kafka -- --events 500000 --rounds 3 --clients kafkajs,platformatic --rate 10000 --seconds 20 --brokers 127.0.0.1:9092
 */
import { availableParallelism, loadavg } from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { Registry } from 'prom-client';
import { kafkaConfigSchema, type KafkaConfig } from '../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../adapters/kafka/kafka-adapter.ts';
import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import { Pipeline } from '../core/pipeline.ts';
import { registerPipelineMetrics } from '../metrics/prometheus.ts';
import { benchLogger, fmt, runId, say, sleep, waitUntil } from './bench-support.ts';
import { KAFKA_CLIENTS, kafkaContenders, parseClients, summarizeContenders } from './kafka-bare.ts';
import { childExecArgv } from '../util/runtime.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    payload: { type: 'string', default: '1024' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: KAFKA_CLIENTS.join(',') },
    brokers: { type: 'string', default: process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    keep: { type: 'boolean', default: false },
    // Internal: the fixed-rate producer runs in a child process of its own (see latencyAtRate).
    'produce-to': { type: 'string' },
    origin: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const PAYLOAD = Number(args.payload);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ROUNDS = Math.max(1, Number(args.rounds));
const CLIENTS = parseClients(args.clients!);
const PARTITIONS = 4;
const run = runId();

const logger = benchLogger();

function config(topic: string, group: string): KafkaConfig {
  return kafkaConfigSchema.parse({ brokers: args.brokers!.split(','), clientId: 'sluice-bench', topics: [topic], group });
}

/** Produces the backlog with Sluice's publisher: batches of 5,000, 1,000 keys. */
async function produceBacklog(adapter: KafkaAdapter, topic: string): Promise<number> {
  const publisher = adapter.createPublisher();
  await publisher.connect();
  const payload = Buffer.alloc(PAYLOAD, 'sluice-kafka-bench;');
  const started = performance.now();
  for (let sent = 0; sent < EVENTS; ) {
    const count = Math.min(5_000, EVENTS - sent);
    const batch = new Array<OutgoingEvent>(count);
    for (let i = 0; i < count; i++) batch[i] = { key: `key-${(sent + i) % 1000}`, payload };
    await publisher.publish(topic, batch);
    sent += count;
  }
  const seconds = (performance.now() - started) / 1000;
  await publisher.close();
  return EVENTS / seconds;
}

function sluicePipeline(adapter: KafkaAdapter, handler: (event: SourceEvent) => void): Pipeline {
  const pipeline = new Pipeline(
    // Sluice's defaults (src/config/schema.ts): queue 10,000 events / 64 MiB, pool 16, async.
    {
      broker: 'kafka',
      queue: { maxEvents: 10_000, maxBytes: 64 << 20, policy: 'block' },
      pool: { size: 16, orderByKey: false },
      shutdownTimeoutMs: 10_000,
      stallTimeoutMs: 60_000,
    },
    { source: adapter.createSource(), handler, logger },
  );
  registerPipelineMetrics(new Registry(), pipeline, 'kafka'); // as in production: collectors read counters when scraped
  return pipeline;
}

/** Sluice: KafkaSource → bounded queue → worker pool → a handler that only counts. */
interface Rate {
  eventsPerSecond: number;
  /** Process CPU time (user + system, all threads) from the first event to the last, per event. */
  cpuUsPerEvent: number;
}

async function throughSluice(cfg: KafkaConfig, topic: string, round: string): Promise<Rate & { commits: number }> {
  const registry = new Registry();
  const adapter = new KafkaAdapter({ ...cfg, topics: [topic], group: `bench-sluice-${run}-${round}` }, logger, registry);
  let count = 0;
  let first = 0;
  let last = 0;
  let cpuFirst: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  const pipeline = sluicePipeline(adapter, () => {
    if (count++ === 0) {
      first = performance.now();
      cpuFirst = process.cpuUsage();
    }
    if (count === EVENTS) {
      last = performance.now();
      cpu = process.cpuUsage(cpuFirst);
    }
  });
  await pipeline.start();
  await waitUntil('Sluice to process the backlog', () => count >= EVENTS, 600_000);
  await pipeline.stop();
  const commits = pipeline.source.commits.committed.get(topic) ?? 0;
  return { eventsPerSecond: EVENTS / ((last - first) / 1000), cpuUsPerEvent: (cpu!.user + cpu!.system) / EVENTS, commits };
}

/** Open-loop producer at `RATE` for `SECONDS` while Sluice consumes; latency from intended send time. */
async function latencyAtRate(cfg: KafkaConfig, admin: ReturnType<KafkaAdapter['createAdmin']>) {
  const topic = `bench-latency-${run}`;
  await admin.createDestination(topic, { partitions: PARTITIONS });
  const adapter = new KafkaAdapter({ ...cfg, topics: [topic], group: `bench-latency-${run}` }, logger, new Registry());
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const producerSide = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const consumerSide = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const total = RATE * SECONDS;
  const warmup = RATE * 2; // the first two seconds are not measured
  let handled = 0;
  const pipeline = sluicePipeline(adapter, (event) => {
    const intended = event.payload.readDoubleLE(0);
    const seq = event.payload.readUInt32LE(8);
    if (seq >= warmup) {
      const now = performance.timeOrigin + performance.now();
      histogram.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
      // The record's timestamp (set by the producer when it sends, ms) splits the path in two.
      producerSide.recordValue(Math.max(1, Math.round((event.timestamp - intended) * 1000)));
      consumerSide.recordValue(Math.max(1, Math.round((now - event.timestamp) * 1000)));
    }
    handled++;
  });
  await pipeline.start();

  // The producer runs in a process of its own, so that it neither slows Sluice down nor is held
  // up by it: both would distort the latency.
  const origin = performance.timeOrigin + performance.now() + 500;
  const child = spawn(
    process.execPath,
    [
      ...childExecArgv(),
      fileURLToPath(import.meta.url),
      '--produce-to',
      topic,
      '--origin',
      String(origin),
      '--rate',
      String(RATE),
      '--seconds',
      String(SECONDS),
      '--payload',
      String(PAYLOAD),
      '--brokers',
      args.brokers!,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench: the producer process exited with ${code}`);
  const { achievedRate } = JSON.parse(output.trim().split('\n').pop()!) as { achievedRate: number };
  await waitUntil('Sluice to process the fixed-rate stream', () => handled >= total, 120_000);
  await pipeline.stop();
  await admin.deleteDestination(topic).catch(() => undefined);
  const ms = (us: number) => Number((us / 1000).toFixed(2));
  return {
    rate: RATE,
    achievedRate,
    events: total - warmup,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
    /** Intended send → record timestamp (the producer's share: batching, acks). */
    producerP50Ms: ms(producerSide.getValueAtPercentile(50)),
    producerP99Ms: ms(producerSide.getValueAtPercentile(99)),
    /** Record timestamp → end of the handler (the consumer's share: fetch, queue, pool). */
    consumerP50Ms: ms(consumerSide.getValueAtPercentile(50)),
    consumerP99Ms: ms(consumerSide.getValueAtPercentile(99)),
  };
}

/** Child process: publishes RATE events/s for SECONDS from `origin`, each stamped with its intended send time. */
async function produceAtRate(topic: string, origin: number): Promise<number> {
  const adapter = new KafkaAdapter(config(topic, 'unused'), logger, new Registry());
  const publisher = adapter.createPublisher();
  await publisher.connect();
  const total = RATE * SECONDS;
  let sent = 0;
  while (sent < total) {
    const now = performance.timeOrigin + performance.now();
    const due = Math.min(total, Math.floor(((now - origin) / 1000) * RATE)) - sent;
    if (due <= 0) {
      await sleep(1);
      continue;
    }
    const batch = new Array<OutgoingEvent>(due);
    for (let i = 0; i < due; i++) {
      const seq = sent + i;
      const payload = Buffer.alloc(PAYLOAD, 'x');
      payload.writeDoubleLE(origin + (seq * 1000) / RATE, 0); // intended send time, ms since the epoch
      payload.writeUInt32LE(seq, 8);
      batch[i] = { key: `key-${seq % 1000}`, payload };
    }
    await publisher.publish(topic, batch);
    sent += due;
  }
  const seconds = (performance.timeOrigin + performance.now() - origin) / 1000;
  await publisher.close();
  process.stdout.write(`${JSON.stringify({ achievedRate: Math.round(total / seconds) })}\n`);
  return 0;
}

async function main(): Promise<number> {
  if (args['produce-to']) return produceAtRate(args['produce-to'], Number(args.origin));
  const topic = `bench-backlog-${run}`;
  const cfg = config(topic, `bench-${run}`);
  const adminAdapter = new KafkaAdapter(cfg, logger, new Registry());
  const admin = adminAdapter.createAdmin();
  await admin.createDestination(topic, { partitions: PARTITIONS });
  try {
    say(
      `load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')} on ${availableParallelism()} CPUs (the broker runs on this machine too)`,
    );
    say(`kafka bench: ${fmt(EVENTS)} events of ${PAYLOAD} B into ${topic} (${PARTITIONS} partitions) at ${cfg.brokers.join(',')}`);
    const produceRate = await produceBacklog(adminAdapter, topic);
    say(`produce (Sluice publisher, batches of 5,000, acks all, idempotent): ${fmt(produceRate)} events/s`);
    // Alternating rounds, best of each: the first read of a process also pays for JIT warm-up
    // of the client's decoder, and the machine may be shared. Every round reads the same backlog
    // with a fresh group, so each starts from the beginning.
    const contenders = kafkaContenders(CLIENTS, { cfg, topic, events: EVENTS, run }, (client, round) =>
      throughSluice({ ...cfg, client }, topic, `${client}-${round}`),
    );
    const results = new Map(contenders.map((c) => [c.name, [] as Rate[]]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const contender of contenders) {
        const result = await contender.run(round);
        results.get(contender.name)!.push(result);
        say(
          `round ${round}: ${contender.name.padEnd(20)} ${fmt(result.eventsPerSecond)} events/s (${((result.eventsPerSecond * PAYLOAD) / 1e6).toFixed(1)} MB/s), ${result.cpuUsPerEvent.toFixed(2)} µs CPU/event${result.commits === undefined ? '' : `, ${result.commits} offset commits`} · load ${loadavg()[0]!.toFixed(2)}`,
        );
      }
    }
    const summary = summarizeContenders(contenders, results);
    say(`best of ${ROUNDS} rounds (rate: best round; CPU: least per event), goal Sluice / bare ≥ 0.9:\n${summary.table}`);
    const kafkajs = summary.byClient.kafkajs;
    const latency = await latencyAtRate(cfg, admin);
    say(
      `end-to-end at ${fmt(RATE)} events/s (achieved ${fmt(latency.achievedRate)}/s, ${fmt(latency.events)} measured): p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, p99.9 ${latency.p999Ms} ms, max ${latency.maxMs} ms`,
    );
    say(
      `  of which producer (send → record timestamp): p50 ${latency.producerP50Ms} ms, p99 ${latency.producerP99Ms} ms; consumer (record timestamp → handler done): p50 ${latency.consumerP50Ms} ms, p99 ${latency.consumerP99Ms} ms`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'kafka',
        events: EVENTS,
        payloadBytes: PAYLOAD,
        partitions: PARTITIONS,
        produceEventsPerSecond: Math.round(produceRate),
        rounds: ROUNDS,
        // The kafkajs figures under their earlier names, for comparison with earlier runs.
        ...(kafkajs && {
          bareKafkajsEventsPerSecond: Math.round(kafkajs.bare.eventsPerSecond),
          sluiceEventsPerSecond: Math.round(kafkajs.sluice.eventsPerSecond),
          bareCpuUsPerEvent: Number(kafkajs.bare.cpuUsPerEvent.toFixed(3)),
          sluiceCpuUsPerEvent: Number(kafkajs.sluice.cpuUsPerEvent.toFixed(3)),
          cpuRatio: kafkajs.cpuRatio,
          ratio: kafkajs.ratio,
        }),
        contenders: summary.json,
        ratios: Object.fromEntries(Object.entries(summary.byClient).map(([client, r]) => [client, { rate: r.ratio, cpu: r.cpuRatio }])),
        latency,
        loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
        cpus: availableParallelism(),
      })}\n`,
    );
    return 0;
  } finally {
    if (!args.keep) await admin.deleteDestination(topic).catch(() => undefined);
    await admin.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kafka bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
