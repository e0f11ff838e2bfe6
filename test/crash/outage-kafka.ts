// The Kafka rows of the broker-outage scenario: a private Kafka node (its own ports and folder,
// deploy/local/private-kafka.ts), stopped by pid (SIGTERM, SIGKILL after 2 s) for the outage and
// started again on the same storage, so topics and committed offsets survive as in production.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { dataDir } from '../../deploy/local/paths.ts';
import { PrivateKafka } from '../../deploy/local/private-kafka.ts';
import { freePort } from '../sluice-cli.ts';
import { createTopicWithLeaders, produceNumbered } from './kafka-topic.ts';
import { type OutageOptions, type OutagePlan, runOutage, uniqueName } from './outage-run.ts';
import type { ScenarioRow } from './scenario.ts';

export type KafkaClientName = 'kafkajs' | 'platformatic';

export interface KafkaOutageOptions extends OutageOptions {
  clients: KafkaClientName[];
}

async function produce(brokers: string[], topic: string, events: number, keys: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'outage-producer', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicWithLeaders(admin, topic, 4);
    await produceNumbered(kafka, admin, topic, events, keys, 'key-');
  } finally {
    await admin.disconnect();
  }
}

/** Whether `group` committed the end offset of every partition of `topic`. */
async function committedToEnd(brokers: string[], topic: string, group: string): Promise<boolean> {
  const admin = new Kafka({ clientId: 'outage-check', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
    return ends.every((end) => at.get(end.partition) === end.high);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function kafkaOutageRows(options: KafkaOutageOptions): Promise<ScenarioRow[]> {
  const { log } = options;
  const node = new PrivateKafka(
    {
      name: `kafka-outage-${process.pid}`,
      dir: join(dataDir('kafka-outage'), String(process.pid)),
      port: await freePort(),
      controllerPort: await freePort(),
      saslPort: await freePort(),
    },
    log,
  );
  const rows: ScenarioRow[] = [];
  try {
    await node.start();
    log(`private kafka on ${node.brokers.join(',')} (pid ${node.pid})`);
    for (const client of options.clients) {
      const topic = uniqueName(`outage-${client}`);
      await produce(node.brokers, topic, options.events, options.keys);
      const plan: OutagePlan = {
        broker: `kafka (${client})`,
        name: `kafka-${client}`,
        dir: options.dir,
        events: options.events,
        outageMs: options.outageMs,
        children: options.children,
        log,
        entry: options.entry,
        env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
        // A user's config: the client's defaults for sessions, commits and retries.
        config: {
          broker: { type: 'kafka', kafka: { brokers: node.brokers, client, topics: [topic], group: `${topic}-group` } },
          queue: { maxEvents: options.queue },
          pool: { size: options.pool, orderByKey: true },
          deadLetter: { type: 'none' },
        },
        // SIGTERM, and SIGKILL if the broker still runs 2 s later: gone at once, as in a crash
        // or a node replaced, rather than after a controlled shutdown that keeps serving fetches.
        cut: async () => {
          log(`kafka: broker ${await node.stop(2_000)}`);
        },
        restore: () => node.start(),
        settled: () => committedToEnd(node.brokers, topic, `${topic}-group`),
      };
      rows.push(await runOutage(plan));
    }
  } finally {
    await node.stop(5_000);
    await rm(node.instance.dir, { recursive: true, force: true });
  }
  return rows;
}
