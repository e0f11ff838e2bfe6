// The brokers the crash-restart harness runs on, each set up as a new user would: a fresh
// topic / stream / subscription created and filled with the vendor's plain SDK (not Sluice's
// publisher), and the Sluice broker section that reads it.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { PubSub } from '@google-cloud/pubsub';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Kafka, logLevel } from 'kafkajs';
import { ENDPOINTS, type BrokerName } from '../../deploy/local/endpoints.ts';
import { createTopicWithLeaders, produceNumbered } from './kafka-topic.ts';

/** Events `0..events-1` as `{"n": <n>}` payloads, keyed `k<n % keys>`. */
export interface Backlog {
  events: number;
  keys: number;
}

export interface PreparedTarget {
  /** Sluice's `broker` section (with `type`). */
  broker: Record<string, unknown>;
  /** Environment for the children (`undefined` removes a variable). */
  env?: Record<string, string | undefined>;
  /** Deletes what was created. */
  cleanup(): Promise<void>;
}

export interface CrashTarget {
  /** The row's broker column, e.g. `kafka (kafkajs)`. */
  label: string;
  /** Local brokers it needs (deploy/local). */
  needs: BrokerName[];
  /** Whether the broker keeps a key's events in order (else order violations are not counted). */
  ordered: boolean;
  /** A documented fault of the broker implementation behind this target (ScenarioRow.knownFault). */
  knownFault?: string;
  /** Creates a fresh destination, publishes the backlog with the plain SDK, returns what reads it. */
  prepare(backlog: Backlog): Promise<PreparedTarget>;
}

const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const payload = (n: number) => JSON.stringify({ n });

/** Kafka through `client`: a topic of 8 partitions, produced with kafkajs. */
export function kafkaTarget(client: 'kafkajs' | 'platformatic'): CrashTarget {
  return {
    label: client === 'platformatic' ? 'kafka (platformatic, static member)' : `kafka (${client})`,
    needs: ['kafka'],
    ordered: true,
    async prepare({ events, keys }) {
      const brokers = ENDPOINTS.kafka.brokers;
      const kafka = new Kafka({ clientId: 'crash-harness', brokers, logLevel: logLevel.NOTHING });
      const topic = fresh('crash');
      const admin = kafka.admin();
      await admin.connect();
      await createTopicWithLeaders(admin, topic, 8);
      await produceNumbered(kafka, admin, topic, events, keys, 'k');
      return {
        // platformatic runs as a static member (a fixed instance id, as a StatefulSet pod name
        // gives): a restart after SIGKILL gets its partitions back at once. kafkajs has no static
        // membership: its restarts wait out the killed member's session (30 s default).
        broker: {
          type: 'kafka',
          kafka: {
            brokers,
            client,
            topics: [topic],
            group: `${topic}-group`,
            ...(client === 'platformatic' ? { groupInstanceId: `${topic}-member-0` } : {}),
          },
        },
        env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
        async cleanup() {
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
          await admin.disconnect();
        },
      };
    },
  };
}

/** Kinesis on kinesalite, leases in dynalite: a stream of 4 shards, PutRecords with the AWS SDK. */
export function kinesisTarget(): CrashTarget {
  return {
    label: 'kinesis (kinesalite + dynalite leases)',
    needs: ['kinesis', 'dynamodb'],
    ordered: true,
    async prepare({ events, keys }) {
      const { url, region } = ENDPOINTS.kinesis;
      // A copy each: the SDK adds fields to the credentials object it is given.
      const { accessKeyId, secretAccessKey } = ENDPOINTS.kinesis.credentials;
      const credentials = () => ({ accessKeyId, secretAccessKey });
      const dynamoUrl = ENDPOINTS.dynamodb.url;
      // HTTP/1.1: the SDK's Kinesis client defaults to HTTP/2, which kinesalite does not speak.
      const kinesis = new KinesisClient({ endpoint: url, region, credentials: credentials(), requestHandler: new NodeHttpHandler() });
      const stream = fresh('crash');
      const application = `${stream}-app`;
      await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
      for (let i = 0; ; i++) {
        const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
        if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        if (i > 300) throw new Error(`kinesis stream ${stream} not ACTIVE after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (let from = 0; from < events; from += 500) {
        const records = [];
        for (let n = from; n < Math.min(events, from + 500); n++)
          records.push({ PartitionKey: `k${n % keys}`, Data: Buffer.from(payload(n)) });
        const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
        if (result.FailedRecordCount) throw new Error(`kinesis PutRecords: ${result.FailedRecordCount} records failed`);
      }
      return {
        broker: {
          type: 'kinesis',
          kinesis: {
            stream,
            application,
            region,
            endpoint: url,
            credentials: credentials(),
            // A fixed worker id, as a StatefulSet pod's name: a restarted worker reclaims its
            // own leases at once instead of waiting for them to expire.
            leases: { type: 'dynamodb', endpoint: dynamoUrl, workerId: 'crash-worker' },
          },
        },
        async cleanup() {
          await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => undefined);
          const dynamo = new DynamoDBClient({ endpoint: dynamoUrl, region, credentials: credentials() });
          await dynamo.send(new DeleteTableCommand({ TableName: application })).catch(() => undefined);
          dynamo.destroy();
          kinesis.destroy();
        },
      };
    },
  };
}

export interface PubSubTargetOptions {
  /** `host:port` of the Pub/Sub API (default: the local emulator). Another implementation
   * (pstest) is a second target with its own endpoint and label. */
  endpoint?: string;
  /** Which implementation, for the label: `emulator`, `pstest`. */
  implementation?: string;
  /** Subscription with message ordering. */
  ordered: boolean;
  /** A documented fault of this implementation that loses or reorders events (ScenarioRow.knownFault). */
  knownFault?: string;
}

/** Pub/Sub: a topic and a subscription, published with @google-cloud/pubsub (ordering keys `k<n % keys>`). */
export function pubsubTarget(options: PubSubTargetOptions): CrashTarget {
  const endpoint = options.endpoint ?? ENDPOINTS.pubsub.emulatorHost;
  const implementation = options.implementation ?? 'emulator';
  return {
    label: `pubsub${options.ordered ? ' ordered' : ''} (${implementation})`,
    needs: [implementation === 'pstest' ? 'pstest' : 'pubsub'],
    ordered: options.ordered,
    knownFault: options.knownFault,
    async prepare({ events, keys }) {
      const projectId = ENDPOINTS.pubsub.projectId;
      const client = new PubSub({ projectId, apiEndpoint: endpoint, emulatorMode: true, universeDomain: 'googleapis.com' } as never);
      const name = fresh('crash');
      const [topic] = await client.createTopic(name);
      await topic.createSubscription(`${name}-sub`, { enableMessageOrdering: options.ordered, ackDeadlineSeconds: 10 });
      const publisher = client.topic(name, { messageOrdering: true, batching: { maxMessages: 1_000, maxMilliseconds: 10 } });
      for (let from = 0; from < events; from += 2_000) {
        const sends: Promise<string>[] = [];
        for (let n = from; n < Math.min(events, from + 2_000); n++) {
          sends.push(publisher.publishMessage({ data: Buffer.from(payload(n)), orderingKey: `k${n % keys}` }));
        }
        await Promise.all(sends);
      }
      await publisher.flush();
      return {
        broker: {
          type: 'pubsub',
          pubsub: {
            endpoint,
            projectId,
            topic: name,
            subscription: `${name}-sub`,
            // Leases of a killed client expire within 10 s (the client otherwise stretches them
            // to the 99th percentile of its ack times).
            lease: { maxAckDeadlineSeconds: 10 },
          },
        },
        env: { PUBSUB_EMULATOR_HOST: undefined }, // the config names the endpoint
        async cleanup() {
          await client
            .subscription(`${name}-sub`)
            .delete()
            .catch(() => undefined);
          await client
            .topic(name)
            .delete()
            .catch(() => undefined);
          await client.close();
        },
      };
    },
  };
}

/** The rows of the harness: every broker and variant (the coordinator adds pstest here). */
export function crashTargets(): CrashTarget[] {
  return [
    kafkaTarget('kafkajs'),
    kafkaTarget('platformatic'),
    kinesisTarget(),
    pubsubTarget({ ordered: false }),
    pubsubTarget({
      ordered: true,
      knownFault:
        'the gcloud emulator drops or reorders ordered messages after a subscriber dies, with a bare client too (test/integration/pubsub/emulator-ordering.test.ts; adapters/pubsub/README.md)',
    }),
    // The verdict on ordered delivery: the same row on a second, faithful implementation.
    pubsubTarget({ ordered: true, endpoint: ENDPOINTS.pstest.emulatorHost, implementation: 'pstest' }),
  ];
}
