// A broker as the crash scenarios (handoff.ts, resume.ts) use it: fresh resources per run, the
// `broker` section of a `sluice run` config that reads them, and a publisher of `{"n": <number>}`
// events over a fixed set of keys. Built on the adapters' own admin and publisher (the same code
// the benchmarks use), pointed at the local brokers (deploy/local/endpoints.ts) unless told otherwise.
import pino from 'pino';
import { Registry } from 'prom-client';
import { kafkaConfigSchema } from '../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../adapters/kafka/kafka-adapter.ts';
import type { KinesisAdmin } from '../../adapters/kinesis/admin.ts';
import { kinesisConfigSchema } from '../../adapters/kinesis/config.ts';
import { KinesisAdapter } from '../../adapters/kinesis/kinesis-adapter.ts';
import { pubsubConfigSchema } from '../../adapters/pubsub/config.ts';
import { PubSubAdapter } from '../../adapters/pubsub/pubsub-adapter.ts';
import { ENDPOINTS } from '../../deploy/local/endpoints.ts';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../src/broker/tooling.ts';
import { uniqueName } from '../integration/brokers.ts';

const silent = pino({ level: 'silent' });

/** Events are keyed `key-<n % KEYS>`: enough keys to spread over every partition or shard. */
export const KEYS = 64;

export interface RigRun {
  /** `broker:` of the Sluice config reading this run's resources. */
  broker: Record<string, unknown>;
  /** Publishes events `from`..`from+count-1`. */
  publish(from: number, count: number): Promise<void>;
  /** Partitions or shards (0 for Pub/Sub: a subscription has none). */
  partitions: number;
  /** Deletes what `prepare` created. */
  cleanup(): Promise<void>;
}

export interface BrokerRig {
  /** The row label, e.g. `kafka (kafkajs)`. */
  label: string;
  /** Fresh topic / stream / subscription; `kafka` and `leases` are merged into the broker section. */
  prepare(settings?: Record<string, unknown>): Promise<RigRun>;
}

function events(from: number, count: number): OutgoingEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `key-${(from + i) % KEYS}`,
    payload: Buffer.from(JSON.stringify({ n: from + i })),
  }));
}

async function runOn(
  admin: BrokerAdmin,
  publisher: Publisher,
  destination: string,
  broker: Record<string, unknown>,
  partitions: number,
  remove: () => Promise<void>,
): Promise<RigRun> {
  await publisher.connect();
  return {
    broker,
    partitions,
    publish: (from, count) => publisher.publish(destination, events(from, count)),
    cleanup: async () => {
      await publisher.close().catch(() => undefined);
      await remove().catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}

/** Kafka with one client library; `settings` go into `broker.kafka`. 8 partitions. */
export function kafkaRig(client: 'kafkajs' | 'platformatic', label = `kafka (${client})`, brokers = ENDPOINTS.kafka.brokers): BrokerRig {
  return {
    label,
    async prepare(settings = {}) {
      const partitions = 8;
      const adapter = new KafkaAdapter(kafkaConfigSchema.parse({ brokers, clientId: 'sluice-crash' }), silent, new Registry());
      const admin = adapter.createAdmin();
      const topic = uniqueName('crash');
      // A busy shared broker now and then answers a create with a retriable error: try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.createDestination(topic, { partitions });
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
      const broker = { type: 'kafka', kafka: { brokers, client, topics: [topic], group: `${topic}-group`, ...settings } };
      return runOn(admin, adapter.createPublisher(), topic, broker, partitions, () => admin.deleteDestination(topic));
    },
  };
}

/** Kinesis on kinesalite with DynamoDB (dynalite) leases; `settings.leases` go into `broker.kinesis.leases`. 4 shards. */
export function kinesisRig(
  label = 'kinesis (kinesalite)',
  endpoints = { kinesis: ENDPOINTS.kinesis, dynamodb: ENDPOINTS.dynamodb },
): BrokerRig {
  return {
    label,
    async prepare(settings = {}) {
      const partitions = 4;
      const stream = uniqueName('crash');
      const { leases, ...rest } = settings as { leases?: Record<string, unknown> };
      const kinesis = {
        stream,
        application: `${stream}-app`,
        region: endpoints.kinesis.region,
        endpoint: endpoints.kinesis.url,
        credentials: endpoints.kinesis.credentials,
        leases: { type: 'dynamodb', endpoint: endpoints.dynamodb.url, ...leases },
        ...rest,
      };
      const adapter = new KinesisAdapter(kinesisConfigSchema.parse(kinesis), { logger: silent, registry: new Registry() });
      const admin = adapter.createAdmin() as KinesisAdmin;
      await admin.createDestination(stream, { partitions });
      return runOn(admin, adapter.createPublisher(), stream, { type: 'kinesis', kinesis }, partitions, async () => {
        await admin.deleteDestination(stream);
        await admin.deleteLeaseTable(kinesis.application);
      });
    },
  };
}

/**
 * Pub/Sub on the emulator: an unordered subscription with a dead-letter policy of 100 attempts,
 * only so that the emulator reports delivery attempts (a redelivery is then visible).
 */
export function pubsubRig(label = 'pubsub (emulator)', endpoint = ENDPOINTS.pubsub): BrokerRig {
  return {
    label,
    async prepare(settings = {}) {
      // PUBSUB_EMULATOR_HOST and no metadata-server probing, for this process and the children.
      for (const [name, value] of Object.entries(endpoint.env)) process.env[name] ??= value;
      const topic = uniqueName('crash');
      const pubsub = {
        endpoint: endpoint.emulatorHost,
        projectId: endpoint.projectId,
        topic,
        subscription: `${topic}-sub`,
        subscriptionSettings: { messageOrdering: false, deadLetterTopic: `${topic}-dead`, maxDeliveryAttempts: 100 },
        ...settings,
      };
      const adapter = new PubSubAdapter(pubsubConfigSchema.parse(pubsub), silent, new Registry());
      const admin = adapter.createAdmin();
      await admin.createDestination(topic);
      return runOn(admin, adapter.createPublisher(), topic, { type: 'pubsub', pubsub }, 0, () => admin.deleteDestination(topic));
    },
  };
}
