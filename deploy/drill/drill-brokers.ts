// The brokers of the drill, each behind toxiproxy so a fault can cut or slow the link:
// - Kafka: a private node (its own ports and folder) whose advertised listener is the proxy's
//   port, so no client bypasses the proxy after bootstrap (the producer is cut too, as a
//   producer in the same network would be); it can be stopped and started on the same storage.
// - Kinesis: kinesalite (the stream) and dynalite (the lease table) of the shared stack, each
//   behind a proxy, cut together. The producer publishes directly: it stands for another service.
// - Pub/Sub: the shared emulator behind a proxy; the producer publishes directly.
// kinesalite, dynalite and the Pub/Sub emulator keep everything in memory: restarting them loses
// every stream, table, topic and subscription, so "broker restart" is not applicable to them.
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { kafkaConfigSchema } from '../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../adapters/kafka/kafka-adapter.ts';
import { kinesisConfigSchema } from '../../adapters/kinesis/config.ts';
import { KinesisAdapter } from '../../adapters/kinesis/kinesis-adapter.ts';
import { pubsubConfigSchema } from '../../adapters/pubsub/config.ts';
import { PubSubAdapter } from '../../adapters/pubsub/pubsub-adapter.ts';
import type { Publisher } from '../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../src/broker/tooling.ts';
import { AWS_LOCAL_CREDENTIALS, AWS_REGION, ENDPOINTS, PUBSUB_PROJECT_ID } from '../local/endpoints.ts';
import { PrivateKafka } from '../local/private-kafka.ts';
import type { Toxiproxy } from '../local/toxiproxy.ts';

export const DRILL_BROKERS = ['kafka', 'kinesis', 'pubsub'] as const;
export type DrillBrokerName = (typeof DRILL_BROKERS)[number];

export type FreePort = () => Promise<number>;

/** One run's destination on a broker: fresh topic / stream / subscription. */
export interface BrokerRun {
  /** The `broker` section of Sluice's config, pointing through the proxy. */
  sluiceBroker: Record<string, unknown>;
  /** Environment for the sluice child (`undefined` removes a variable). */
  env: Record<string, string | undefined>;
  publisher: Publisher;
  destination: string;
  /** Deletes the destination and closes the clients. */
  cleanup(): Promise<void>;
}

export interface DrillBroker {
  name: DrillBrokerName;
  /** The rows' broker column when it says more than the name (`kafka (platformatic)`). */
  label?: string;
  /** Creates a fresh destination named `run`. */
  prepare(run: string): Promise<BrokerRun>;
  /** Cuts (false) or restores (true) every link to the broker: toxiproxy disables its proxies. */
  setReachable(reachable: boolean): Promise<void>;
  /** Adds latency (ms, each way's responses) to every link, or removes it (0). */
  setLatency(ms: number): Promise<void>;
  /** Stops and starts the broker process; absent where {@link restartNa} says why. */
  restart?: { stop(): Promise<void>; start(): Promise<void> };
  restartNa?: string;
  close(): Promise<void>;
}

const silent = () => pino({ level: 'silent' });

async function proxied(toxiproxy: Toxiproxy, names: string[]) {
  return {
    setReachable: async (reachable: boolean) => {
      for (const name of names) await toxiproxy.setEnabled(name, reachable);
    },
    setLatency: async (ms: number) => {
      for (const name of names) {
        await toxiproxy.removeToxic(name, 'drill-latency');
        if (ms > 0) await toxiproxy.addToxic(name, { name: 'drill-latency', type: 'latency', attributes: { latency: ms, jitter: 0 } });
      }
    },
  };
}

/**
 * Creates `destination` and connects `publisher`; returns them with the cleanup that undoes it
 * (`also` runs before the admin closes, e.g. dropping a lease table). Cleanup never throws.
 */
async function withPublisher(
  admin: BrokerAdmin,
  publisher: Publisher,
  destination: string,
  partitions: number,
  also: () => Promise<unknown> = async () => undefined,
): Promise<{ publisher: Publisher; destination: string; cleanup(): Promise<void> }> {
  await admin.createDestination(destination, { partitions });
  await publisher.connect();
  return {
    publisher,
    destination,
    async cleanup() {
      await publisher.close().catch(() => undefined);
      await admin.deleteDestination(destination).catch(() => undefined);
      await also().catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}

export async function kafkaBroker(
  toxiproxy: Toxiproxy,
  freePort: FreePort,
  stateDir: string,
  log: (msg: string) => void,
  /** The Kafka client Sluice reads and the drill's producer writes with (`--kafka-client`). */
  client: 'kafkajs' | 'platformatic' = 'kafkajs',
): Promise<DrillBroker> {
  const [port, controllerPort, saslPort, proxyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const address = `127.0.0.1:${proxyPort}`;
  await toxiproxy.createProxy({ name: 'drill-kafka', listen: address, upstream: `127.0.0.1:${port}` });
  const node = new PrivateKafka(
    { name: `kafka-drill-${process.pid}`, dir: join(stateDir, 'kafka'), port, controllerPort, saslPort, advertisedPort: proxyPort },
    log,
  );
  await node.start();
  log(`private kafka pid ${node.pid} on ${port}, clients through toxiproxy ${address}`);
  const links = await proxied(toxiproxy, ['drill-kafka']);
  return {
    name: 'kafka',
    ...(client === 'kafkajs' ? {} : { label: `kafka (${client})` }),
    ...links,
    restart: { stop: async () => void (await node.stop(10_000)), start: () => node.start() },
    async prepare(run) {
      const section = { brokers: [address], client, topics: [run], group: `${run}-group` };
      const adapter = new KafkaAdapter(kafkaConfigSchema.parse(section), silent(), new Registry());
      const admin = adapter.createAdmin();
      const publisher = adapter.createPublisher();
      return {
        sluiceBroker: { type: 'kafka', kafka: section },
        env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
        ...(await withPublisher(admin, publisher, run, 4)),
      };
    },
    close: async () => void (await node.stop(5_000)),
  };
}

export async function kinesisBroker(toxiproxy: Toxiproxy, freePort: FreePort): Promise<DrillBroker> {
  const [kinesisPort, dynamoPort] = [await freePort(), await freePort()];
  await toxiproxy.createProxy({ name: 'drill-kinesis', listen: `127.0.0.1:${kinesisPort}`, upstream: ENDPOINTS.kinesis.address });
  await toxiproxy.createProxy({ name: 'drill-dynamodb', listen: `127.0.0.1:${dynamoPort}`, upstream: ENDPOINTS.dynamodb.address });
  const links = await proxied(toxiproxy, ['drill-kinesis', 'drill-dynamodb']);
  return {
    name: 'kinesis',
    ...links,
    restartNa: 'kinesalite and dynalite keep streams and leases in memory: a restart loses them all',
    async prepare(run) {
      const common = { stream: run, application: `${run}-app`, region: AWS_REGION, credentials: { ...AWS_LOCAL_CREDENTIALS } };
      const direct = kinesisConfigSchema.parse({
        ...common,
        endpoint: ENDPOINTS.kinesis.url,
        leases: { type: 'dynamodb', endpoint: ENDPOINTS.dynamodb.url },
      });
      const adapter = new KinesisAdapter(direct, { logger: silent() });
      const admin = adapter.createAdmin();
      const publisher = adapter.createPublisher();
      const prepared = await withPublisher(admin, publisher, run, 2, async () =>
        (admin as { deleteLeaseTable?: (app: string) => Promise<void> }).deleteLeaseTable?.(common.application),
      );
      return {
        sluiceBroker: {
          type: 'kinesis',
          kinesis: {
            ...common,
            endpoint: `http://127.0.0.1:${kinesisPort}`,
            leases: { type: 'dynamodb', endpoint: `http://127.0.0.1:${dynamoPort}` },
          },
        },
        env: {},
        ...prepared,
      };
    },
    close: async () => undefined,
  };
}

export async function pubsubBroker(toxiproxy: Toxiproxy, freePort: FreePort): Promise<DrillBroker> {
  const port = await freePort();
  await toxiproxy.createProxy({ name: 'drill-pubsub', listen: `127.0.0.1:${port}`, upstream: ENDPOINTS.pubsub.address });
  const links = await proxied(toxiproxy, ['drill-pubsub']);
  return {
    name: 'pubsub',
    ...links,
    restartNa: 'the Pub/Sub emulator keeps topics and subscriptions in memory: a restart loses them all',
    async prepare(run) {
      const section = {
        projectId: PUBSUB_PROJECT_ID,
        topic: run,
        subscription: `${run}-sub`,
        subscriptionSettings: { messageOrdering: false },
      };
      const adapter = new PubSubAdapter(
        pubsubConfigSchema.parse({ ...section, endpoint: ENDPOINTS.pubsub.emulatorHost }),
        silent(),
        new Registry(),
      );
      const admin = adapter.createAdmin();
      const publisher = adapter.createPublisher();
      return {
        sluiceBroker: { type: 'pubsub', pubsub: { ...section, endpoint: `127.0.0.1:${port}` } },
        // The config names the endpoint (the proxy); the variable would send the client around it.
        env: { PUBSUB_EMULATOR_HOST: undefined },
        ...(await withPublisher(admin, publisher, run, 1)),
      };
    },
    close: async () => undefined,
  };
}
