// The local brokers (Kafka, the Pub/Sub emulator and pstest, kinesalite, kinesis-mock, dynalite, NATS):
// how each is prepared, launched and probed. The manager (broker-manager.ts) treats them all alike.
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import {
  type BrokerEndpoint,
  type BrokerName,
  ENDPOINTS,
  type KafkaEndpoint,
  LOCAL_HOST,
  PORTS,
  PUBSUB_PROJECT_ID,
  withKafkaSasl,
} from './endpoints.ts';
import { dynamodbHealth, kafkaHealth, kinesisHealth, natsHealth, pstestHealth, pubsubHealth } from './health-checks.ts';
import { checkJava, KAFKA_VERSION, prepareKafka, PrerequisiteMissing } from './kafka-dist.ts';
import { KAFKA_SASL_MECHANISM, kafkaSecurityDir, readKafkaSecurity } from './kafka-security.ts';
import { dataDir, deployDir } from './paths.ts';
import { NATS_SERVER_VERSION, natsServer } from './nats-dist.ts';
import { ensurePstest, pstestVersion } from './pstest-dist.ts';
import type { LaunchCommand } from './process-group.ts';

export interface BrokerSpec {
  name: BrokerName;
  /** What runs, for humans. */
  title: string;
  /** Every port the broker binds; all on 127.0.0.1. */
  ports: number[];
  /** A string found in the command line of the broker's processes (pid-reuse guard). */
  marker: string;
  /** Longest wait, after launch, for the first healthy answer. */
  startTimeoutMs: number;
  /** SIGTERM grace before SIGKILL. */
  stopGraceMs: number;
  /** Checks prerequisites, downloads or formats what is needed; returns the command. */
  prepare(log: (msg: string) => void): Promise<LaunchCommand>;
  /** Resolves with a one-line summary if the broker answers a real request; throws otherwise. */
  health(): Promise<string>;
  /** The endpoint of a healthy broker as it runs (default: ENDPOINTS[name], fixed). */
  endpoint?(): Promise<BrokerEndpoint>;
}

const node = (script: string, args: string[] = [], env?: Record<string, string>): LaunchCommand => ({
  command: process.execPath,
  args: [join(deployDir, script), ...args],
  env,
});

/** The Cloud SDK root: `gcloud` is <root>/bin/gcloud, usually reached through a symlink. */
function gcloudSdkRoot(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'gcloud');
    if (!dir || !existsSync(candidate)) continue;
    return dirname(dirname(realpathSync(candidate)));
  }
  return undefined;
}

function pubsubEmulatorCommand(): LaunchCommand {
  // Found from the file system rather than `gcloud info`, which looks up host names.
  const sdkRoot = gcloudSdkRoot();
  if (!sdkRoot) {
    throw new PrerequisiteMissing(
      '`gcloud` (Google Cloud CLI) is not on PATH; install it and the Pub/Sub emulator: ' +
        "apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator (Google's apt repository), " +
        'or `gcloud components install beta pubsub-emulator`',
    );
  }
  if (!existsSync(join(sdkRoot, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator'))) {
    throw new PrerequisiteMissing(
      `the Pub/Sub emulator component is not installed in ${sdkRoot}: ` +
        'apt-get install google-cloud-cli-pubsub-emulator, or `gcloud components install beta pubsub-emulator`',
    );
  }
  checkJava();
  const dir = dataDir('pubsub');
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'gcloud-config'), { recursive: true });
  // The emulator logs every request's headers at INFO; keep its start-up lines only.
  const logging = join(dir, 'logging.properties');
  writeFileSync(
    logging,
    [
      'handlers=java.util.logging.ConsoleHandler',
      '.level=INFO',
      'io.gapi.emulators.level=WARNING',
      'java.util.logging.ConsoleHandler.level=ALL',
      '',
    ].join('\n'),
  );
  return {
    command: 'gcloud',
    args: [
      'beta',
      'emulators',
      'pubsub',
      'start',
      `--host-port=${LOCAL_HOST}:${PORTS.pubsub}`,
      `--project=${PUBSUB_PROJECT_ID}`,
      `--data-dir=${join(dir, 'data')}`,
    ],
    env: {
      // Never prompt, never reach out: no update check, no usage reporting, no probe for the
      // GCE metadata server (a DNS lookup on every fresh config), and a private gcloud config
      // so the developer's own settings are neither read nor changed.
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
      CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
      CLOUDSDK_CONFIG: join(dir, 'gcloud-config'),
      CLOUD_PUBSUB_EMULATOR_OPTS: `-Xmx1g -Djava.util.logging.config.file=${logging}`,
    },
    cwd: dir,
  };
}

/**
 * Kafka's endpoint with its SASL_SSL listener when that listener lets the local SCRAM user in;
 * otherwise without, and why (a broker started by an older checkout has no such listener).
 */
async function kafkaEndpoint(): Promise<KafkaEndpoint> {
  const base = ENDPOINTS.kafka;
  const restart = 'restart Kafka (npm run brokers:down -- kafka, then brokers:up, from the checkout that started it) to get it';
  const security = readKafkaSecurity();
  if (!security) return { ...base, saslUnavailable: `no CA and SCRAM password in ${kafkaSecurityDir}; ${restart}` };
  const endpoint = withKafkaSasl(base, {
    caFile: security.caFile,
    mechanism: KAFKA_SASL_MECHANISM,
    username: security.username,
    password: security.password,
  });
  const options = {
    ssl: { ca: [readFileSync(security.caFile, 'utf8')] },
    sasl: { mechanism: KAFKA_SASL_MECHANISM, username: security.username, password: security.password } as const,
  };
  // Tried for a while: the PLAINTEXT listener may answer before this one does.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await kafkaHealth(endpoint.sasl!.brokers, options, 10_000);
      return endpoint;
    } catch (error) {
      const message = (error as Error).message;
      if (Date.now() < deadline && !/authentication failed|ECONNREFUSED/i.test(message)) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      }
      return { ...base, saslUnavailable: `the SASL_SSL listener ${endpoint.sasl!.address} refused: ${message}; ${restart}` };
    }
  }
}

export const BROKERS: Record<BrokerName, BrokerSpec> = {
  kafka: {
    name: 'kafka',
    title: `Apache Kafka ${KAFKA_VERSION} (KRaft, broker+controller)`,
    ports: [PORTS.kafka, PORTS.kafkaController, PORTS.kafkaSasl],
    marker: 'kafka.Kafka',
    startTimeoutMs: 180_000,
    stopGraceMs: 30_000,
    prepare: (log) => prepareKafka(log),
    health: () => kafkaHealth(ENDPOINTS.kafka.brokers),
    endpoint: kafkaEndpoint,
  },
  pubsub: {
    name: 'pubsub',
    title: 'Google Cloud Pub/Sub emulator (gcloud)',
    ports: [PORTS.pubsub],
    marker: 'pubsub',
    startTimeoutMs: 120_000,
    stopGraceMs: 15_000,
    prepare: async () => pubsubEmulatorCommand(),
    health: () => pubsubHealth(ENDPOINTS.pubsub.emulatorHost, PUBSUB_PROJECT_ID),
  },
  pstest: {
    name: 'pstest',
    title: `pstest ${pstestVersion()} (cloud.google.com/go/pubsub/v2/pstest as a gRPC server: a second Pub/Sub implementation)`,
    ports: [PORTS.pstest],
    marker: 'pstest-server',
    startTimeoutMs: 30_000,
    stopGraceMs: 5_000,
    // Built once per machine (minutes, cold) into the user cache; a cached build is reused.
    prepare: async (log) => {
      const { binary } = await ensurePstest(log);
      return { command: binary, args: [`--port=${PORTS.pstest}`] };
    },
    health: () => pstestHealth(ENDPOINTS.pstest.emulatorHost, PUBSUB_PROJECT_ID),
  },
  kinesis: {
    name: 'kinesis',
    title: 'kinesalite (in-memory Kinesis)',
    ports: [PORTS.kinesis],
    marker: 'kinesalite-server.mjs',
    startTimeoutMs: 30_000,
    stopGraceMs: 5_000,
    prepare: async () => node('kinesalite-server.mjs', [String(PORTS.kinesis)]),
    health: () => kinesisHealth(ENDPOINTS.kinesis.url),
  },
  'kinesis-mock': {
    name: 'kinesis-mock',
    title: 'kinesis-mock (npm kinesis-local: enhanced fan-out, UpdateShardCount)',
    ports: [PORTS.kinesisMock, PORTS.kinesisMockTls],
    marker: 'kinesis-mock-server.cjs',
    startTimeoutMs: 60_000,
    stopGraceMs: 5_000,
    prepare: async () =>
      node('kinesis-mock-server.cjs', [], {
        KINESIS_MOCK_PLAIN_PORT: String(PORTS.kinesisMock),
        KINESIS_MOCK_TLS_PORT: String(PORTS.kinesisMockTls),
        // State changes (CREATING -> ACTIVE, UPDATING -> ACTIVE) stay observable but quick.
        CREATE_STREAM_DURATION: '50ms',
        DELETE_STREAM_DURATION: '50ms',
        REGISTER_STREAM_CONSUMER_DURATION: '50ms',
        DEREGISTER_STREAM_CONSUMER_DURATION: '50ms',
        MERGE_SHARDS_DURATION: '50ms',
        SPLIT_SHARD_DURATION: '50ms',
        UPDATE_SHARD_COUNT_DURATION: '50ms',
        UPDATE_STREAM_MODE_DURATION: '50ms',
        START_STREAM_ENCRYPTION_DURATION: '50ms',
        STOP_STREAM_ENCRYPTION_DURATION: '50ms',
        SHARD_LIMIT: '1000',
        SHOULD_PERSIST_DATA: 'false',
        AWS_REGION: 'us-east-1',
      }),
    health: () => kinesisHealth(ENDPOINTS['kinesis-mock'].url),
  },
  dynamodb: {
    name: 'dynamodb',
    title: 'dynalite (in-memory DynamoDB, Kinesis lease tables)',
    ports: [PORTS.dynamodb],
    marker: 'dynalite-server.mjs',
    startTimeoutMs: 30_000,
    stopGraceMs: 5_000,
    prepare: async () => node('dynalite-server.mjs', [String(PORTS.dynamodb)]),
    health: () => dynamodbHealth(ENDPOINTS.dynamodb.url),
  },
  nats: {
    name: 'nats',
    title: `nats-server ${NATS_SERVER_VERSION} (JetStream, file store under the state dir)`,
    ports: [PORTS.nats],
    marker: 'nats-server',
    startTimeoutMs: 30_000,
    stopGraceMs: 10_000,
    // Built once per machine (minutes, cold) into the user cache; a cached build is reused.
    prepare: async (log) => {
      const { binary } = await natsServer(log);
      const store = join(dataDir('nats'), 'jetstream');
      mkdirSync(store, { recursive: true });
      return { command: binary, args: ['-a', LOCAL_HOST, '-p', String(PORTS.nats), '-js', '-sd', store, '-n', 'sluice-local'] };
    },
    health: () => natsHealth(ENDPOINTS.nats.servers),
  },
};
