// Health means "answers a real request of its own protocol", never just "the port is open":
// a JVM broker opens its port seconds before it can serve metadata.
import { connect } from 'node:net';
import type { KafkaConfig } from 'kafkajs';

const PROBE_TIMEOUT_MS = 5_000;

/** Throws unless `fn` settles within `ms`. */
async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kafka: a kafkajs admin client connects, describes the cluster, lists topics and finds the
 * group coordinator. The last step creates the offsets topic on a fresh broker, so consumer
 * groups work (rather than answer "coordinator not available") once this passes. `security`:
 * TLS and SASL for a secured listener (whose TLS handshake needs a longer `connectionTimeout`
 * while the JVM warms up).
 */
export async function kafkaHealth(
  brokers: string[],
  security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {},
  connectionTimeout = 2_000,
): Promise<string> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: 'sluice-health',
    brokers,
    ...security,
    logLevel: logLevel.NOTHING,
    connectionTimeout,
    requestTimeout: 4_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    return await within(PROBE_TIMEOUT_MS * 2, 'kafka', async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const topics = await admin.listTopics();
      await admin.describeGroups(['sluice-health']);
      return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), ${topics.length} topic(s)`;
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Pub/Sub emulator: the REST face of the emulator lists the project's topics. */
export async function pubsubHealth(hostPort: string, projectId: string): Promise<string> {
  const res = await fetch(`http://${hostPort}/v1/projects/${projectId}/topics`, {
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`pubsub: GET topics answered HTTP ${res.status}`);
  const body = (await res.json()) as { topics?: unknown[] };
  return `${body.topics?.length ?? 0} topic(s) in ${projectId}`;
}

/**
 * pstest (gRPC only, no REST face): the Pub/Sub client lists the project's topics, in emulator
 * mode (plain text; an explicit universe domain so the auth library never probes the metadata
 * server).
 */
export async function pstestHealth(hostPort: string, projectId: string): Promise<string> {
  const { PubSub } = await import('@google-cloud/pubsub');
  const client = new PubSub({ apiEndpoint: hostPort, emulatorMode: true, projectId, universeDomain: 'googleapis.com' } as never);
  try {
    return await within(PROBE_TIMEOUT_MS, 'pstest', async () => {
      const [topics] = await client.getTopics({ gaxOpts: { timeout: PROBE_TIMEOUT_MS, retry: null } } as never);
      return `${topics.length} topic(s) in ${projectId} (gRPC)`;
    });
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * An AWS JSON-protocol call (Kinesis, DynamoDB). The local servers check that a SigV4
 * Authorization header is present but not its signature, so a fixed fake one will do.
 */
export async function awsJsonCall(url: string, target: string, jsonVersion: '1.0' | '1.1', body: unknown = {}): Promise<unknown> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const service = target.startsWith('DynamoDB') ? 'dynamodb' : 'kinesis';
  const res = await fetch(url, {
    method: 'POST',
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    headers: {
      'content-type': `application/x-amz-json-${jsonVersion}`,
      'x-amz-target': target,
      'x-amz-date': `${day}T000000Z`,
      authorization: `AWS4-HMAC-SHA256 Credential=local/${day}/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${target} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

export async function kinesisHealth(url: string): Promise<string> {
  const out = (await awsJsonCall(url, 'Kinesis_20131202.ListStreams', '1.1')) as { StreamNames?: string[] };
  return `${out.StreamNames?.length ?? 0} stream(s)`;
}

export async function dynamodbHealth(url: string): Promise<string> {
  const out = (await awsJsonCall(url, 'DynamoDB_20120810.ListTables', '1.0')) as { TableNames?: string[] };
  return `${out.TableNames?.length ?? 0} table(s)`;
}

/** Whether anything accepts TCP connections on host:port (used only to report a port clash). */
export function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (taken: boolean) => {
      socket.destroy();
      resolve(taken);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** NATS: a client connects and JetStream answers an account-info request (JetStream is on). */
export async function natsHealth(servers: string[]): Promise<string> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  return within(PROBE_TIMEOUT_MS, 'nats', async () => {
    const nc = await connect({ servers, timeout: 2_000, reconnect: false });
    try {
      const info = await (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo();
      return `nats-server ${nc.info?.version ?? '?'}, JetStream: ${info.streams} stream(s)`;
    } finally {
      await nc.close();
    }
  });
}
