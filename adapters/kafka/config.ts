import { z } from 'zod';
import { DEFAULT_TEXT } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

/**
 * `broker.kafka`: Apache Kafka through kafkajs (the default) or @platformatic/kafka. This file imports no SDK, so validating a config
 * loads none. Secrets are never part of the config: a SASL password is read from the environment
 * variable that `sasl.passwordEnv` names, when the adapter is created.
 */

const ms = (fallback: number, description: string, min = 1) => z.number().int().min(min).default(fallback).describe(description);

/** `brokers` from YAML is a list; from an environment variable it may also be `h1:9092,h2:9092`. */
const brokerList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  z
    .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'))
    .min(1)
    .describe('Bootstrap brokers, host:port each (a comma-separated string is accepted too).'),
);

const sslSchema = z.union([
  z.boolean(),
  z
    .object({
      ca: z
        .string()
        .min(1)
        .optional()
        .meta({ [DEFAULT_TEXT]: 'the system CAs' })
        .describe("PEM file of the CA that signed the brokers' certificates (default: the system CAs)."),
      cert: z.string().min(1).optional().describe('PEM client certificate file, for mutual TLS.'),
      key: z.string().min(1).optional().describe('PEM private key file of `cert`.'),
      passphraseEnv: z.string().min(1).optional().describe('Environment variable holding the passphrase of `key`, if it has one.'),
      rejectUnauthorized: z.boolean().default(true).describe("Verify the brokers' certificates. Turn off only for testing."),
      servername: z.string().min(1).optional().describe('TLS server name (SNI) when it differs from the broker host.'),
    })
    .strict(),
]);

const saslSchema = z
  .object({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe('SASL mechanism; use it with `ssl` in production (plain sends the password as is).'),
    username: z.string().min(1).describe('SASL user name.'),
    password: z
      .never({ error: 'a password is never written in the config: put it in an environment variable and set passwordEnv to its name' })
      .optional()
      .describe('Not accepted: see passwordEnv.'),
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable, e.g. KAFKA_PASSWORD')
      .describe('Name of the environment variable that holds the password (never the password itself; it is never logged).'),
  })
  .strict();

export const kafkaConfigSchema = z
  .object({
    brokers: brokerList.default(['127.0.0.1:9092']),
    client: z
      .enum(['kafkajs', 'platformatic'])
      .default('kafkajs')
      .describe(
        'Kafka client library: kafkajs (default; unmaintained since 2.2.4, eager rebalancing only) or @platformatic/kafka (static membership, KIP-848 consumer protocol).',
      ),
    groupProtocol: z
      .enum(['classic', 'consumer'])
      .default('classic')
      .describe(
        'Group protocol: classic (JoinGroup/SyncGroup) or consumer (KIP-848, broker-side assignment; Kafka 4.0+, platformatic only).',
      ),
    groupInstanceId: z
      .string()
      .min(1)
      .max(249)
      .optional()
      .describe(
        "Static membership: this instance's fixed id in the group, so that a restart within sessionTimeoutMs gets its partitions back without a rebalance (platformatic only).",
      ),
    staticMembership: z
      .boolean()
      .default(false)
      .describe(
        'Static membership with the id taken from the environment: SLUICE_INSTANCE_ID, else POD_NAME, else HOSTNAME (a StatefulSet pod name is stable across restarts). platformatic only.',
      ),
    leaveGroupOnClose: z
      .boolean()
      .default(true)
      .describe(
        'On close (SIGTERM), leave the group after the final commit so that the partitions move to the other members at once. false keeps a static member in the group: restarted under the same instance id within sessionTimeoutMs it gets its partitions back without a rebalance, but until then nobody reads them. Static members (platformatic, classic protocol) only.',
      ),
    clientId: z.string().min(1).default('sluice').describe('Client id the brokers see in their logs and quotas.'),
    topics: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Topics to read. A source needs this or `topicPattern`; a dead-letter-only section needs neither.'),
    topicPattern: z
      .string()
      .min(1)
      .refine((pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .optional()
      .describe(
        "Regular expression; the topics matching it at start-up are read, except internal `__*` topics and Sluice's own dead-letter topics (the names deadLetter.destination can produce, when dead letters go to this broker).",
      ),
    group: z
      .string()
      .min(1)
      .default('sluice')
      .describe('Consumer group: instances of one group share the partitions; committed offsets belong to it.'),
    startFrom: z
      .enum(['earliest', 'latest'])
      .default('earliest')
      .describe('Where a partition with no committed offset of the group starts.'),
    ssl: sslSchema.default(false).describe('TLS: true (system CAs) or files for CA / client certificate.'),
    sasl: saslSchema.optional().describe('SASL authentication (plain, scram-sha-256, scram-sha-512).'),
    connectionTimeoutMs: ms(3_000, 'TCP (and TLS) connect timeout per broker.'),
    authenticationTimeoutMs: ms(10_000, 'SASL authentication timeout.'),
    requestTimeoutMs: ms(30_000, 'Timeout of one request to a broker.'),
    retry: z
      .object({
        retries: z.number().int().min(0).default(5).describe('Tries after the first for a failed connection or request.'),
        initialRetryTimeMs: ms(300, 'First wait before trying again (grows exponentially, jittered).'),
        maxRetryTimeMs: ms(10_000, 'Longest wait between tries.'),
      })
      .strict()
      .prefault({})
      .describe('Client retries; they bound how long an unreachable broker takes to be reported.'),
    startTimeoutMs: ms(60_000, 'start() fails if connecting, checking the topics and joining the group take longer.'),
    sessionTimeoutMs: ms(
      30_000,
      "The group drops a member it has not heard from for this long: after a crash, a dynamic member's partitions wait this long for a new owner. Lower fails over faster but drops a member whose heartbeats stall that long (rebalance, duplicates); the broker's group.min.session.timeout.ms (6000 by default) is the least it accepts.",
      6_000,
    ),
    heartbeatIntervalMs: ms(
      3_000,
      'Heartbeat period, also while the source waits for room in the queue; about a third of sessionTimeoutMs.',
    ),
    rebalanceTimeoutMs: ms(60_000, 'How long the group waits for members to rejoin during a rebalance.'),
    revokeTimeoutMs: ms(
      10_000,
      'On a rebalance, how long in-flight events may take to finish before offsets are committed and the partitions released; less than rebalanceTimeoutMs.',
      0,
    ),
    missingTopicGraceMs: ms(
      30_000,
      'How long a topic the source reads may be missing at the brokers (deleted, perhaps to be re-created) before the source gives up on it: with `topics`, Sluice then stops and exits non-zero naming it; with `topicPattern`, the source reads on without it (and stops only when no matched topic is left). Checked every min(10 s, a third of this, at least 1 s).',
      0,
    ),
    commitIntervalMs: ms(1_000, 'How often acked offsets (up to the highest contiguous one per partition) are committed.'),
    nackDelayMs: ms(1_000, 'Delay before a nacked event is delivered again.', 0),
    partitionsConsumedConcurrently: z
      .number()
      .int()
      .min(1)
      .max(1_000)
      .default(1)
      .describe('Partition batches kafkajs hands over at once; deliveries to the queue stay one at a time.'),
    isolationLevel: z
      .enum(['read_committed', 'read_uncommitted'])
      .default('read_committed')
      .describe('Whether records of open or aborted transactions are read.'),
    fetch: z
      .object({
        minBytes: z.number().int().min(1).default(1).describe('A fetch waits for at least this many bytes (or maxWaitTimeMs).'),
        maxBytes: z
          .number()
          .int()
          .min(1)
          .default(10 * 1024 * 1024)
          .describe('Largest fetch response.'),
        maxBytesPerPartition: z
          .number()
          .int()
          .min(1)
          .default(1024 * 1024)
          .describe('Largest batch per partition in a fetch.'),
        maxWaitTimeMs: ms(500, 'Longest wait of a fetch for minBytes; also bounds how quickly a stop is noticed.'),
      })
      .strict()
      .prefault({})
      .describe('Fetch sizes and wait; kafkajs fetches again only when every batch of the last fetch was delivered.'),
    producer: z
      .object({
        idempotent: z
          .boolean()
          .default(true)
          .describe('Idempotent producer: no duplicates or reordering from retries (needs acks all; the brokers must allow it).'),
        acks: z.enum(['all', 'leader', 'none']).default('all').describe('Broker acknowledgement a publish waits for.'),
        compression: z
          .enum(['none', 'gzip'])
          .default('none')
          .describe('Record batch compression (kafkajs ships gzip; other codecs need packages Sluice does not install).'),
        maxBatchBytes: z
          .number()
          .int()
          .min(1024)
          .default(900_000)
          .describe("A publish larger than this is sent as several requests, in order (keep below the broker's message.max.bytes)."),
        timeoutMs: ms(30_000, 'A publish not confirmed within this time is rejected (retriable).'),
        allowAutoTopicCreation: z
          .boolean()
          .default(true)
          .describe('Let the broker create a missing destination topic, if the broker allows it (dead-letter topics).'),
      })
      .strict()
      .prefault({})
      .describe('The publisher: dead letters, bridging, benchmark load.'),
    admin: z
      .object({
        replicationFactor: z
          .number()
          .int()
          .min(-1)
          .default(-1)
          .describe('Replication factor of topics created by the admin (-1: the broker default).'),
      })
      .strict()
      .prefault({})
      .describe('Topic creation by tests and benchmarks.'),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.topics && config.topicPattern) {
      context.addIssue({ code: 'custom', path: ['topicPattern'], message: 'set either `topics` or `topicPattern`, not both' });
    }
    if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
      context.addIssue({
        code: 'custom',
        path: ['heartbeatIntervalMs'],
        message: `must be lower than sessionTimeoutMs (${config.sessionTimeoutMs})`,
      });
    }
    if (config.revokeTimeoutMs >= config.rebalanceTimeoutMs) {
      context.addIssue({
        code: 'custom',
        path: ['revokeTimeoutMs'],
        message: `must be lower than rebalanceTimeoutMs (${config.rebalanceTimeoutMs})`,
      });
    }
    if (config.client !== 'platformatic') {
      for (const key of ['groupInstanceId', 'staticMembership'] as const) {
        if (config[key])
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'static membership needs client: platformatic (kafkajs does not support it)',
          });
      }
      if (config.groupProtocol === 'consumer') {
        context.addIssue({
          code: 'custom',
          path: ['groupProtocol'],
          message: 'the consumer protocol (KIP-848) needs client: platformatic',
        });
      }
    }
    if (!config.leaveGroupOnClose && (!(config.groupInstanceId || config.staticMembership) || config.groupProtocol !== 'classic')) {
      context.addIssue({
        code: 'custom',
        path: ['leaveGroupOnClose'],
        message:
          'false needs static membership (groupInstanceId or staticMembership, client: platformatic, groupProtocol: classic): a dynamic member that does not leave only makes its partitions wait for its session to expire',
      });
    }
    if (config.groupInstanceId && config.staticMembership) {
      context.addIssue({ code: 'custom', path: ['staticMembership'], message: 'set either groupInstanceId or staticMembership, not both' });
    }
    if (config.producer.idempotent && config.producer.acks !== 'all') {
      context.addIssue({ code: 'custom', path: ['producer', 'acks'], message: 'an idempotent producer needs acks: all' });
    }
  })
  .describe(
    'Apache Kafka (broker.type kafka): a consumer group reads topics; offsets are committed up to the highest contiguous acked one.',
  );

export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;

/**
 * The static member id of this instance: `groupInstanceId`, or with `staticMembership` the first
 * of SLUICE_INSTANCE_ID, POD_NAME, HOSTNAME that is set. Undefined for a dynamic member.
 */
export function groupInstanceId(config: Pick<KafkaConfig, 'groupInstanceId' | 'staticMembership'>, env = process.env): string | undefined {
  if (config.groupInstanceId) return config.groupInstanceId;
  if (!config.staticMembership) return undefined;
  const id = env.SLUICE_INSTANCE_ID || env.POD_NAME || env.HOSTNAME;
  if (!id) {
    throw new ConfigError(
      'broker.kafka.staticMembership',
      'none of SLUICE_INSTANCE_ID, POD_NAME, HOSTNAME is set: set one, or groupInstanceId',
    );
  }
  return id;
}
