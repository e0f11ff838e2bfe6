/**
 * Throughput of a Kafka → Pub/Sub bridge (handler.forward, src/bridge) on the local brokers:
 * `--events` events of `--payload` bytes are produced into a fresh Kafka topic, then Sluice is
 * started as `sluice run` starts it (startSluice: the same container, wrappers and forward
 * handler) with the fresh topic as source and a fresh Pub/Sub topic as destination, and timed
 * from start until every event was confirmed by Pub/Sub and so completed (the rate also from the
 * first completion, which leaves the group join out). The destination topic has no subscription,
 * so the emulator keeps nothing (its heap is small); what is measured is the bridge up to the
 * publish confirmation. Human-readable lines go to stderr, one JSON object to stdout.
 *
 *   npx tsx src/bench/bridge-bench.ts --events 100000 --pool 512 --batch 500
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { OutgoingEvent } from '../broker/contract.ts';
import { startSluice } from '../cli/run.ts';
import { toolingFor } from '../composition/adapters.ts';
import { validateConfig } from '../config/load.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    payload: { type: 'string', default: '100' },
    pool: { type: 'string', default: '512' },
    batch: { type: 'string', default: '500' },
    linger: { type: 'string', default: '5' },
    kafka: { type: 'string', default: '127.0.0.1:9092' },
    pubsub: { type: 'string', default: process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085' },
    ordered: { type: 'boolean', default: false },
  },
});
const events = Number(args.events);
const say = (line: string) => process.stderr.write(`${line}\n`);
const run = `bridge-bench-${Date.now().toString(36)}`;
const logger = pino({ level: 'warn' }, pino.destination(2));

const { config: kafkaSection, module } = await toolingFor('kafka', { brokers: [args.kafka], topics: [run], group: run });
const kafka = module.createAdapter(kafkaSection as never, { logger, registry: new Registry() });
const admin = kafka.createAdmin();
await admin.createDestination(run, { partitions: 4 });
const publisher = kafka.createPublisher();
await publisher.connect();
const payload = Buffer.alloc(Number(args.payload), 'x');
let produced = Date.now();
for (let from = 0; from < events; from += 1000) {
  const batch: OutgoingEvent[] = [];
  for (let n = from; n < Math.min(events, from + 1000); n++) batch.push({ key: `k${n % 64}`, payload, headers: { n: String(n) } });
  await publisher.publish(run, batch);
}
await publisher.close();
produced = Date.now() - produced;
say(`produced ${events} events of ${payload.length} B into kafka ${run} in ${(produced / 1000).toFixed(1)} s`);

const config = await validateConfig({
  broker: { type: 'kafka', kafka: { brokers: [args.kafka], topics: [run], group: run } },
  pool: { size: Number(args.pool), orderByKey: args.ordered },
  handler: {
    forward: {
      broker: { type: 'pubsub', pubsub: { projectId: 'sluice-local', endpoint: args.pubsub, createResources: true } },
      destination: run,
      batch: { maxEvents: Number(args.batch), lingerMs: Number(args.linger) },
    },
  },
  metrics: { enabled: false },
  log: { level: 'warn', summaryIntervalMs: 0 },
});
const started = performance.now();
const running = await startSluice(config, logger, { quiet: true });
const stats = running.sluice.pipeline.stats;
let first = 0;
while (stats.completed < events) {
  if (first === 0 && stats.completed > 0) first = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const done = performance.now();
await running.stop();
await admin.deleteDestination(run).catch(() => undefined);
await admin.close();
const seconds = (done - started) / 1000;
const fromFirst = (done - first) / 1000;
const result = {
  events,
  payloadBytes: payload.length,
  pool: Number(args.pool),
  batch: Number(args.batch),
  ordered: args.ordered,
  seconds: Number(seconds.toFixed(2)),
  eventsPerSecond: Math.round(events / seconds),
  eventsPerSecondFromFirst: Math.round(events / fromFirst),
  deadLettered: stats.processed.dead_lettered,
  failed: stats.processed.failed,
};
say(
  `bridge kafka → pubsub: ${events} events in ${seconds.toFixed(1)} s from start (${result.eventsPerSecond}/s), ${result.eventsPerSecondFromFirst}/s from the first confirmation`,
);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
