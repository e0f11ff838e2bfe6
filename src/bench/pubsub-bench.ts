/**
 * `npm run bench:pubsub`: what Sluice costs on top of the bare @google-cloud/pubsub client,
 * against the Pub/Sub emulator (or any endpoint: --endpoint, $PUBSUB_EMULATOR_HOST).
 *
 *  1. A topic with two subscriptions per round (created *before* publishing, so each sees the
 *     whole backlog) receives `--events` 1 KB messages once, through Sluice's batched publisher.
 *  2. The backlog is consumed by each contender, alternating per round, each on its own
 *     subscription: a bare client subscription whose message handler only counts and acks, and
 *     Sluice started as `sluice run` starts it (bench-support.ts: schema defaults, handler
 *     wrappers, metrics server scraped once a second, summary line), a handler that only counts
 *     in place of the noop; acked after processing, as in production. Both use the same streaming options and flow-control limits
 *     (Sluice's, derived from its default queue). Rates are taken from the first message to the
 *     last distinct one; the ratio is Sluice / bare (best round of each). Process CPU time per
 *     event is reported too: on a shared machine it is steadier than wall-clock rates.
 *  3. End-to-end latency at a fixed `--rate` (default 5,000/s): a producer in a child process
 *     publishes at that rate (open loop: each event carries its intended send time) into a fresh
 *     topic while the bare client, then Sluice, consumes it; p50/p99/max from intended send to the
 *     end of the handler (HDR histogram, first two seconds excluded), split at the server's publish
 *     time, and for Sluice also its own share: receipt by the client → handler. The emulator's
 *     delivery dominates (and at 5,000/s on a busy 2-core machine it falls behind), so the bare
 *     client's figure at the same rate is the floor to compare with.
 *
 * The emulator started by `npm run brokers:up` has a 256 MB heap, which a 100,000 × 1 KB backlog
 * on two subscriptions exhausts: use --endpoint with an emulator started with a larger heap
 * (CLOUD_PUBSUB_EMULATOR_OPTS=-Xmx2g), or fewer --events.
 *
 * Human-readable lines go to stderr; the last line on stdout is one JSON object with the figures.
 *   npm run bench:pubsub -- --events 100000 --rate 5000 --seconds 20
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import type { BrokerAdmin, ToolingAdapter } from '../broker/tooling.ts';
import { benchHooksFor } from '../composition/adapters.ts';
import { configSchema } from '../config/schema.ts';
import { benchAdapter, startBareReader } from './bench-adapters.ts';
import { EventCounter, fmt, type Rate as BaseRate, runConfigFor, runId, say, sleep, startSluiceAsRun, waitUntil } from './bench-support.ts';
import { LatencySplit, latencyHistogram, ms, publishAtRate, readStamp } from './open-loop.ts';
import { childExecArgv } from '../util/runtime.ts';
import { flagOrExit, parseDuration, parseSize } from '../cli/units.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    payload: { type: 'string', default: '1024' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    endpoint: { type: 'string', default: process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085' },
    project: { type: 'string', default: process.env.PUBSUB_PROJECT_ID ?? 'sluice-local' },
    // Internal: the fixed-rate producer runs in a child process of its own (see latencyAtRate).
    'produce-to': { type: 'string' },
    origin: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const PAYLOAD = flagOrExit(() => parseSize(args.payload, '--payload'));
const RATE = Number(args.rate);
const SECONDS = flagOrExit(() => parseDuration(args.seconds, '--seconds', 's'));
const ROUNDS = Math.max(1, Number(args.rounds));
/** Sluice's default queue: the bare client gets the flow control Sluice derives from it. */
const QUEUE = configSchema.parse({}).queue;
const run = runId();
const hooks = await benchHooksFor('pubsub');

/** The `broker.pubsub` section of a config, as a user would write it. */
function section(topic: string, subscription: string): Record<string, unknown> {
  return {
    endpoint: args.endpoint,
    projectId: args.project,
    topic,
    subscription,
    subscriptionSettings: { messageOrdering: false },
    publisher: { maxMessages: 1000, maxBytes: 5 * 1024 * 1024, maxMilliseconds: 10 },
  };
}

/** Sluice as `sluice run` starts it (bench-support.ts: defaults, wrappers, metrics, summary) with `handler`. */
function sluiceFor(topic: string, subscription: string, handler: (event: SourceEvent) => void) {
  return startSluiceAsRun(runConfigFor('pubsub', section(topic, subscription)), handler);
}

type Rate = BaseRate & { duplicates: number };

/** Counts distinct message ids (Pub/Sub may redeliver); times the first to the last distinct one. */
class Meter {
  private readonly seen = new Set<string>();
  private readonly distinct = new EventCounter(EVENTS);
  received = 0;

  see(id: string): void {
    this.received++;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.distinct.add(1);
  }

  get done(): boolean {
    return this.distinct.done;
  }

  rate(): Rate {
    return { ...this.distinct.rate(), duplicates: this.received - this.seen.size };
  }
}

async function produceBacklog(adapter: ToolingAdapter, topic: string): Promise<number> {
  const publisher = adapter.createPublisher();
  await publisher.connect();
  const payload = Buffer.alloc(PAYLOAD, 'sluice-pubsub-bench;');
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let sent = 0; sent < EVENTS; ) {
    const count = Math.min(5_000, EVENTS - sent);
    const batch = new Array<OutgoingEvent>(count).fill({ payload });
    inFlight.push(publisher.publish(topic, batch));
    if (inFlight.length >= 4) await inFlight.shift();
    sent += count;
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  await publisher.close();
  return EVENTS / seconds;
}

/**
 * The baseline: the client alone (adapters/pubsub/bench-hooks.ts), with the flow control Sluice
 * derives from its default queue, a message handler that counts and acks at once.
 */
async function bareClient(topic: string, subscription: string): Promise<Rate & { description: string }> {
  const meter = new Meter();
  const reader = await startBareReader('pubsub', section(topic, subscription), {
    queue: QUEUE,
    onRead: () => undefined,
    onMessage: (message) => meter.see(message.id),
  });
  await waitUntil('the bare client to read the backlog', () => meter.done, 900_000);
  await reader.stop();
  return { ...meter.rate(), description: reader.description };
}

/** Sluice: PubSubSource → bounded queue → worker pool → a handler that only counts. */
async function throughSluice(topic: string, subscription: string): Promise<Rate> {
  const meter = new Meter();
  const sluice = await sluiceFor(topic, subscription, (event) => meter.see(event.id));
  await waitUntil('Sluice to process the backlog', () => meter.done, 900_000);
  await sluice.stop();
  return meter.rate();
}

/** Child process: publishes `RATE` events/s for `SECONDS` from `origin`, each stamped with its intended send time. */
async function producer(topic: string, origin: number): Promise<void> {
  const { adapter } = await benchAdapter('pubsub', section(topic, `${topic}-unused`));
  const publisher = adapter.createPublisher();
  await publisher.connect();
  // A publish the emulator did not confirm in time is reported, not fatal: the consumer side
  // reports how many events arrived.
  const { failed } = await publishAtRate(publisher, topic, {
    rate: RATE,
    seconds: SECONDS,
    payloadBytes: PAYLOAD,
    origin,
    awaitEach: false,
  });
  if (failed > 0) say(`producer: ${failed} publish calls failed`);
  await publisher.close();
}

/**
 * Open-loop latency at `RATE` through `who`: Sluice, or the bare client (acking at once), whose
 * figure is the floor the emulator and the client library set at that rate.
 */
async function latencyAtRate(topic: string, who: 'sluice' | 'bare') {
  const subscription = `${topic}-${who}`;
  const admin = (await benchAdapter('pubsub', section(topic, subscription))).adapter.createAdmin();
  await admin.createDestination(topic);
  const split = new LatencySplit();
  /** Receipt by the client → the handler: Sluice's own share (source, queue, pool). */
  const inSluice = latencyHistogram();
  const total = RATE * SECONDS;
  const warmup = RATE * 2;
  const seen = new Set<number>();
  const record = (payload: Buffer, publishedAt: number) => {
    const { intended, seq } = readStamp(payload);
    // The publish time the server recorded splits the path: producer + publish, then delivery + consumer.
    if (seq >= warmup && !seen.has(seq)) split.record(intended, publishedAt);
    seen.add(seq);
  };
  let stopConsumer: () => Promise<void>;
  if (who === 'sluice') {
    const sluice = await sluiceFor(topic, subscription, (event) => {
      const received = hooks.receivedAt?.(event);
      if (received !== undefined) inSluice.recordValue(Math.max(1, Math.round((Date.now() - received) * 1000)));
      record(event.payload, event.timestamp);
    });
    stopConsumer = () => sluice.stop();
  } else {
    const reader = await startBareReader('pubsub', section(topic, subscription), {
      queue: QUEUE,
      onRead: () => undefined,
      onMessage: (message) => record(message.payload, message.timestamp),
    });
    stopConsumer = () => reader.stop();
  }
  const origin = performance.timeOrigin + performance.now() + 500;
  const child = spawn(
    process.execPath,
    [...childExecArgv(), fileURLToPath(import.meta.url), ...process.argv.slice(2), '--produce-to', topic, '--origin', String(origin)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + (SECONDS + 180) * 1000;
    while (seen.size < total && Date.now() < deadline && child.exitCode === null) await sleep(20);
    // After the producer is done, stragglers get 30 s more.
    const stragglers = Date.now() + 30_000;
    while (seen.size < total && Date.now() < Math.min(deadline, stragglers)) await sleep(20);
  } finally {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await exited;
    await stopConsumer();
    await admin.deleteDestination(topic).catch(() => undefined);
    await admin.close();
  }
  const { total: histogram, producer: producerSide, consumer: consumerSide } = split;
  return {
    rate: RATE,
    seconds: SECONDS,
    received: seen.size,
    published: total,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue),
    /** Intended send → publish time on the server (the producer's batching and the publish RPC). */
    publishP99Ms: ms(producerSide.getValueAtPercentile(99)),
    /** Publish time → end of the handler (delivery by the emulator, then the consumer). */
    deliveryP50Ms: ms(consumerSide.getValueAtPercentile(50)),
    deliveryP99Ms: ms(consumerSide.getValueAtPercentile(99)),
    /** Sluice only: receipt by the client → the handler (ms resolution). */
    ...(who === 'sluice'
      ? { inSluiceP50Ms: ms(inSluice.getValueAtPercentile(50)), inSluiceP99Ms: ms(inSluice.getValueAtPercentile(99)) }
      : {}),
  };
}

async function main(): Promise<void> {
  if (args['produce-to']) {
    await producer(args['produce-to'], Number(args.origin));
    return;
  }
  const topic = `bench-backlog-${run}`;
  const subscriptions = Array.from({ length: ROUNDS }, (_, round) => ({
    bare: `${topic}-bare-${round}`,
    sluice: `${topic}-sluice-${round}`,
  }));
  // One admin per subscription: each creates the topic (if missing) and its subscription, before
  // anything is published, so that every subscription sees the whole backlog.
  const admins: BrokerAdmin[] = [];
  for (const pair of subscriptions) {
    for (const subscription of [pair.bare, pair.sluice])
      admins.push((await benchAdapter('pubsub', section(topic, subscription))).adapter.createAdmin());
  }
  const { adapter } = await benchAdapter('pubsub', section(topic, subscriptions[0]!.bare));
  say(`pubsub bench: ${fmt(EVENTS)} events of ${PAYLOAD} B, ${ROUNDS} round(s), endpoint ${args.endpoint}`);
  for (const admin of admins) await admin.createDestination(topic);
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const admin of admins) {
      await admin.deleteDestination(topic).catch(() => undefined);
      await admin.close();
    }
  };
  try {
    const publishRate = await produceBacklog(adapter, topic);
    say(`backlog published: ${fmt(publishRate)} events/s; both consumers with Sluice's default queue (${fmt(QUEUE.maxEvents)} events)`);
    const bare: Rate[] = [];
    const sluice: Rate[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pair = subscriptions[round]!;
      // Alternate who goes first, so that neither always meets a warmer (or more tired) emulator.
      const order = round % 2 === 0 ? (['bare', 'sluice'] as const) : (['sluice', 'bare'] as const);
      for (const who of order) {
        const result = who === 'bare' ? await bareClient(topic, pair.bare) : await throughSluice(topic, pair.sluice);
        (who === 'bare' ? bare : sluice).push(result);
        say(
          `round ${round + 1} ${who.padEnd(6)}: ${fmt(result.eventsPerSecond)} events/s, ${result.cpuUsPerEvent.toFixed(1)} µs CPU/event, ${result.duplicates} duplicates${'description' in result ? ` (${result.description})` : ''}`,
        );
      }
    }
    const best = (rates: Rate[]) => rates.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
    const bestBare = best(bare);
    const bestSluice = best(sluice);
    const ratio = bestSluice.eventsPerSecond / bestBare.eventsPerSecond;
    say(
      `bare client ${fmt(bestBare.eventsPerSecond)} events/s, Sluice ${fmt(bestSluice.eventsPerSecond)} events/s: ratio ${ratio.toFixed(3)} (goal ≥ 0.9)`,
    );
    await cleanup(); // the emulator keeps the backlog subscriptions' state: drop it before measuring latency
    const latencies: Record<string, Awaited<ReturnType<typeof latencyAtRate>>> = {};
    for (const who of ['bare', 'sluice'] as const) {
      const latency = await latencyAtRate(`bench-latency-${who}-${run}`, who);
      latencies[who] = latency;
      say(
        `end-to-end at ${fmt(latency.rate)} events/s, ${who.padEnd(6)} (${fmt(latency.received)}/${fmt(latency.published)} received): p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms ` +
          `(publish p99 ${latency.publishP99Ms} ms; publish time → handled p50 ${latency.deliveryP50Ms} ms, p99 ${latency.deliveryP99Ms} ms` +
          (latency.inSluiceP99Ms !== undefined
            ? `; receipt → handler p50 ${latency.inSluiceP50Ms} ms, p99 ${latency.inSluiceP99Ms} ms)`
            : ')'),
      );
    }
    const latency = latencies.sluice!;
    const result = {
      broker: 'pubsub',
      endpoint: args.endpoint,
      events: EVENTS,
      payloadBytes: PAYLOAD,
      rounds: ROUNDS,
      publishEventsPerSecond: Math.round(publishRate),
      bareEventsPerSecond: Math.round(bestBare.eventsPerSecond),
      sluiceEventsPerSecond: Math.round(bestSluice.eventsPerSecond),
      ratio: Number(ratio.toFixed(3)),
      bareCpuUsPerEvent: Number(bestBare.cpuUsPerEvent.toFixed(2)),
      sluiceCpuUsPerEvent: Number(bestSluice.cpuUsPerEvent.toFixed(2)),
      duplicates: { bare: bare.map((r) => r.duplicates), sluice: sluice.map((r) => r.duplicates) },
      latency,
      bareLatency: latencies.bare,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`pubsub bench failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
