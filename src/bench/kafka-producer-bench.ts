/**
 * `npm run bench:kafka-producer`: the load side of `sluice bench` alone, per Kafka client: how
 * many 1 KB events/s the bench producer (runProducer + the adapter's publisher, idempotent,
 * acks all) offers when nothing else of the bench competes with it for the CPU. Alternating
 * rounds, a fresh topic each.
 *   npm run bench:kafka-producer -- --rate 80000 --seconds 6 --rounds 2 --clients platformatic,kafkajs --in-flight 4
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchAdapter } from './bench-adapters.ts';
import { fmt, runId, say } from './bench-support.ts';
import { KAFKA_CLIENTS, type KafkaClient, parseClients } from './kafka-bare.ts';
import { runProducer } from './producer.ts';
import { publishesInFlight } from './run-broker.ts';
import { nowMs } from './stamp.ts';
import { table } from './table.ts';
import { flagOrExit, parseDuration, parseSize } from '../cli/units.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '80000' },
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    'message-size': { type: 'string', default: '1024' },
    'in-flight': { type: 'string', default: String(publishesInFlight('kafka')) },
    clients: { type: 'string', default: KAFKA_CLIENTS.join(',') },
    brokers: { type: 'string', default: process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:9092' },
  },
});
const RATE = Number(args.rate);
const SECONDS = flagOrExit(() => parseDuration(args.seconds, '--seconds', 's'));
const IN_FLIGHT = Number(args['in-flight']);
const MESSAGE_SIZE = flagOrExit(() => parseSize(args['message-size'], '--message-size'));
/** One round: the rate offered (events confirmed / time until the last was confirmed) and CPU per event. */
async function offer(client: KafkaClient): Promise<{ offered: number; cpuUsPerEvent: number; maxBehindMs: number }> {
  const { adapter } = await benchAdapter('kafka', { client, brokers: args.brokers!.split(','), clientId: 'sluice-bench-producer' });
  const admin = adapter.createAdmin();
  const topic = `bench-producer-${runId()}`;
  await admin.createDestination(topic, { partitions: 4 });
  const publisher = adapter.createPublisher();
  try {
    await publisher.connect();
    const startMs = nowMs() + 200;
    const cpu = process.cpuUsage();
    const report = await runProducer(
      (events) => publisher.publish(topic, events),
      {
        workload: `constant:${RATE}/s`,
        seed: 1,
        part: 0,
        parts: 1,
        seconds: SECONDS,
        messageSize: MESSAGE_SIZE,
        keys: 100,
        startMs,
        // As run-broker.ts sizes them.
        batchSize: Math.max(1, Math.min(500, Math.round(RATE / 100))),
        concurrency: IN_FLIGHT,
      },
      () => undefined,
    );
    const used = process.cpuUsage(cpu);
    return {
      offered: report.sent / ((nowMs() - startMs) / 1000),
      cpuUsPerEvent: (used.user + used.system) / report.sent,
      maxBehindMs: report.maxBehindMs,
    };
  } finally {
    await publisher.close();
    await admin.deleteDestination(topic).catch(() => undefined);
    await admin.close();
  }
}

async function main(): Promise<number> {
  const clients = parseClients(args.clients!);
  say(
    `kafka producer bench: ${fmt(RATE)} events/s asked for ${SECONDS} s, ${IN_FLIGHT} publishes in flight, on ${availableParallelism()} CPUs`,
  );
  const rows: (string | number)[][] = [];
  const results: Record<string, { offered: number[]; cpuUsPerEvent: number[] }> = {};
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const client of clients) {
      const load = loadavg()[0]!.toFixed(2);
      const result = await offer(client);
      results[client] ??= { offered: [], cpuUsPerEvent: [] };
      results[client].offered.push(Math.round(result.offered));
      results[client].cpuUsPerEvent.push(Number(result.cpuUsPerEvent.toFixed(2)));
      rows.push([`${client} round ${round}`, fmt(result.offered), result.cpuUsPerEvent.toFixed(2), fmt(result.maxBehindMs), load]);
    }
  }
  say(table(['client', 'offered/s', 'CPU µs/event', 'max behind ms', 'load'], rows));
  process.stdout.write(`${JSON.stringify({ bench: 'kafka-producer', rate: RATE, seconds: SECONDS, inFlight: IN_FLIGHT, results })}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kafka producer bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
