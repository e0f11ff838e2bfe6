// What a client needs to reach each local broker. Plain data (it crosses from the vitest
// global setup to the test workers), and the single place where ports and the environment
// variables that point Sluice at the brokers are written down.

export const BROKER_NAMES = ['kafka', 'pubsub', 'pstest', 'kinesis', 'kinesis-mock', 'dynamodb', 'nats'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

export const LOCAL_HOST = '127.0.0.1';
export const PUBSUB_PROJECT_ID = 'sluice-local';
export const AWS_REGION = 'us-east-1';
/** Local servers accept any credentials; the SDK only needs some to sign with. */
export const AWS_LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

interface EndpointBase {
  /** Host and main port, e.g. `127.0.0.1:9092`. */
  address: string;
  host: string;
  port: number;
  /** Environment variables that point Sluice (and the vendor SDKs) at this broker. */
  env: Record<string, string>;
}

export interface KafkaEndpoint extends EndpointBase {
  name: 'kafka';
  /** Bootstrap list for kafkajs `brokers`. */
  brokers: string[];
  /** The SASL_SSL listener, when it answered SCRAM with the local credentials (see kafka-security.ts). */
  sasl?: KafkaSaslEndpoint;
  /** Why `sasl` is missing (a broker started before the listener existed, credentials gone…). */
  saslUnavailable?: string;
}

/** The secured listener of the local Kafka: TLS with a local CA, then SASL/SCRAM-SHA-512. */
export interface KafkaSaslEndpoint {
  address: string;
  port: number;
  brokers: string[];
  /** PEM of the CA that signed the broker's certificate (`ssl.ca`). */
  caFile: string;
  mechanism: 'scram-sha-512';
  username: string;
  /** A throwaway secret of the local stack; Sluice reads it through `sasl.passwordEnv`. */
  password: string;
}

/**
 * A local implementation of the Pub/Sub API: `pubsub` is the gcloud emulator, `pstest` the Go
 * client's fake (deploy/local/pstest-dist.ts), a second implementation to cross-check against.
 */
export interface PubSubEndpoint extends EndpointBase {
  name: 'pubsub' | 'pstest';
  /** Value for PUBSUB_EMULATOR_HOST / the client's `apiEndpoint` / `broker.pubsub.endpoint`. */
  emulatorHost: string;
  projectId: string;
}

export interface AwsEndpoint extends EndpointBase {
  name: 'kinesis' | 'kinesis-mock' | 'dynamodb';
  /** Plain-HTTP endpoint for the AWS SDK v3 `endpoint` option. */
  url: string;
  /** kinesis-mock only: TLS + HTTP/2 endpoint (self-signed certificate), for SubscribeToShard. */
  tlsUrl?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** nats-server with JetStream (deploy/local/nats-dist.ts). */
export interface NatsEndpoint extends EndpointBase {
  name: 'nats';
  /** For `broker.nats.servers`. */
  servers: string[];
}

export type BrokerEndpoint = KafkaEndpoint | PubSubEndpoint | AwsEndpoint | NatsEndpoint;
export type EndpointOf<N extends BrokerName> = N extends 'kafka'
  ? KafkaEndpoint
  : N extends 'pubsub' | 'pstest'
    ? PubSubEndpoint
    : N extends 'nats'
      ? NatsEndpoint
      : AwsEndpoint;

/**
 * A port from the environment, else its default. Only Kafka's ports move: a second, private
 * Kafka (own ports, own SLUICE_BROKERS_STATE_DIR) can then run beside the shared one, e.g. to
 * stop it in a test or to try a change of its configuration.
 */
function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

export const PORTS = {
  kafka: portFromEnv('SLUICE_KAFKA_PORT', 9092),
  kafkaController: portFromEnv('SLUICE_KAFKA_CONTROLLER_PORT', 9093),
  /** The SASL_SSL (SCRAM-SHA-512) listener. */
  kafkaSasl: portFromEnv('SLUICE_KAFKA_SASL_PORT', 9094),
  pubsub: 8085,
  pstest: 8086,
  kinesis: 4567,
  kinesisMock: 4568,
  kinesisMockTls: 4570,
  dynamodb: 4569,
  /** NATS's usual client port; nothing else of the stack uses it. */
  nats: 4222,
};

const at = (port: number) => ({ host: LOCAL_HOST, port, address: `${LOCAL_HOST}:${port}` });

function aws(name: AwsEndpoint['name'], port: number, envVar: string, tlsPort?: number): AwsEndpoint {
  const url = `http://${LOCAL_HOST}:${port}`;
  const tlsUrl = tlsPort === undefined ? undefined : `https://${LOCAL_HOST}:${tlsPort}`;
  const env: Record<string, string> = { [envVar]: url };
  if (tlsUrl) env[`${envVar.replace(/_ENDPOINT$/, '')}_TLS_ENDPOINT`] = tlsUrl;
  return {
    name,
    ...at(port),
    url,
    ...(tlsUrl ? { tlsUrl } : {}),
    region: AWS_REGION,
    credentials: { ...AWS_LOCAL_CREDENTIALS },
    env,
  };
}

export const ENDPOINTS: { [N in BrokerName]: EndpointOf<N> } = {
  kafka: {
    name: 'kafka',
    ...at(PORTS.kafka),
    brokers: [`${LOCAL_HOST}:${PORTS.kafka}`],
    env: { SLUICE_KAFKA_BROKERS: `${LOCAL_HOST}:${PORTS.kafka}` },
  },
  pubsub: {
    name: 'pubsub',
    ...at(PORTS.pubsub),
    emulatorHost: `${LOCAL_HOST}:${PORTS.pubsub}`,
    projectId: PUBSUB_PROJECT_ID,
    env: {
      PUBSUB_EMULATOR_HOST: `${LOCAL_HOST}:${PORTS.pubsub}`,
      PUBSUB_PROJECT_ID,
      // Without it google-auth-library probes the GCE metadata server (169.254.169.254)
      // even in emulator mode: traffic off this machine and a MetadataLookupWarning.
      METADATA_SERVER_DETECTION: 'none',
    },
  },
  // Not PUBSUB_EMULATOR_HOST (that one points at the emulator): tests pass this endpoint to the
  // adapter as broker.pubsub.endpoint (emulator mode: plain text, no credentials).
  pstest: {
    name: 'pstest',
    ...at(PORTS.pstest),
    emulatorHost: `${LOCAL_HOST}:${PORTS.pstest}`,
    projectId: PUBSUB_PROJECT_ID,
    env: { SLUICE_PSTEST_HOST: `${LOCAL_HOST}:${PORTS.pstest}`, METADATA_SERVER_DETECTION: 'none' },
  },
  kinesis: aws('kinesis', PORTS.kinesis, 'SLUICE_KINESIS_ENDPOINT'),
  'kinesis-mock': aws('kinesis-mock', PORTS.kinesisMock, 'SLUICE_KINESIS_MOCK_ENDPOINT', PORTS.kinesisMockTls),
  dynamodb: aws('dynamodb', PORTS.dynamodb, 'SLUICE_DYNAMODB_ENDPOINT'),
  nats: {
    name: 'nats',
    ...at(PORTS.nats),
    servers: [`${LOCAL_HOST}:${PORTS.nats}`],
    env: { SLUICE_NATS_SERVERS: `${LOCAL_HOST}:${PORTS.nats}` },
  },
};

/**
 * The Kafka endpoint with its SASL_SSL listener, and the variables that point Sluice at it:
 * SLUICE_KAFKA_SASL_BROKERS, SLUICE_KAFKA_SASL_CA (file), SLUICE_KAFKA_SASL_USERNAME and
 * SLUICE_KAFKA_SASL_PASSWORD (a config names the last in `sasl.passwordEnv`).
 */
export function withKafkaSasl(base: KafkaEndpoint, sasl: Omit<KafkaSaslEndpoint, 'address' | 'port' | 'brokers'>): KafkaEndpoint {
  const address = `${LOCAL_HOST}:${PORTS.kafkaSasl}`;
  return {
    ...base,
    sasl: { address, port: PORTS.kafkaSasl, brokers: [address], ...sasl },
    env: {
      ...base.env,
      SLUICE_KAFKA_SASL_BROKERS: address,
      SLUICE_KAFKA_SASL_CA: sasl.caFile,
      SLUICE_KAFKA_SASL_USERNAME: sasl.username,
      SLUICE_KAFKA_SASL_PASSWORD: sasl.password,
    },
  };
}

export function isBrokerName(name: string): name is BrokerName {
  return (BROKER_NAMES as readonly string[]).includes(name);
}

/** Parses a list such as `kafka,pubsub` (SLUICE_BROKERS or the command line); empty or `all`: all, `none`: none. */
export function parseBrokerList(items: string[] | string | undefined): BrokerName[] {
  const list = (Array.isArray(items) ? items : (items ?? '').split(','))
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.includes('all')) return [...BROKER_NAMES];
  if (list.length === 1 && list[0] === 'none') return [];
  const unknown = list.filter((s) => !isBrokerName(s));
  if (unknown.length > 0) {
    throw new Error(`unknown broker(s) ${unknown.join(', ')}; known: ${BROKER_NAMES.join(', ')}`);
  }
  return BROKER_NAMES.filter((n) => list.includes(n));
}
