import { z } from 'zod';
import { DEFAULT_TEXT } from '../../src/config/schema.ts';

/**
 * `broker.kinesis`: an Amazon Kinesis Data Stream read with shard leases (a Node counterpart of
 * the KCL). This file imports no SDK: validating a config loads none.
 */
const endpointSchema = z
  .url()
  .optional()
  .meta({ [DEFAULT_TEXT]: "AWS's endpoint for the region" })
  .describe('Custom endpoint (local emulators: http://127.0.0.1:4567). Omit for AWS; http:// endpoints use a plain HTTP/1.1 handler.');

const credentialsSchema = z
  .object({
    accessKeyId: z.string().min(1).describe('AWS access key id.'),
    secretAccessKey: z.string().min(1).describe('AWS secret access key (local emulators accept any).'),
    sessionToken: z.string().min(1).optional().describe('Session token of temporary credentials.'),
  })
  .strict()
  .optional()
  .meta({ [DEFAULT_TEXT]: 'the SDK default chain' })
  .describe('Static credentials (local emulators only). Omit to use the SDK default chain: environment, profile, IAM role / IRSA.');

export const kinesisConfigSchema = z
  .object({
    stream: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[a-zA-Z0-9_.-]+$/, 'a Kinesis stream name: letters, digits, _ . -')
      .describe('Stream the source reads.'),
    application: z
      .string()
      .min(1)
      .default('sluice')
      .describe(
        'Consumer application name: instances with the same name share the shards (the lease table and the fan-out consumer are named after it).',
      ),
    region: z
      .string()
      .min(1)
      .optional()
      .meta({ [DEFAULT_TEXT]: 'the SDK chain (AWS_REGION, profile)' })
      .describe('AWS region; default from the SDK chain (AWS_REGION, profile).'),
    endpoint: endpointSchema,
    credentials: credentialsSchema,
    startFrom: z
      .enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'])
      .default('TRIM_HORIZON')
      .describe('Where a shard with no checkpoint starts: the oldest record kept, new records only, or `startTimestamp`.'),
    startTimestamp: z
      .union([z.number().int().min(0), z.iso.datetime({ offset: true })])
      .optional()
      .describe('For startFrom AT_TIMESTAMP: epoch milliseconds or an ISO-8601 date-time.'),
    connectTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe('Bound on each start-up call (stream, lease table): start() fails after it.'),
    consumer: z
      .object({
        type: z
          .enum(['polling', 'efo'])
          .default('polling')
          .describe(
            'polling: GetRecords (shared 2 MB/s per shard); efo: enhanced fan-out, SubscribeToShard over HTTP/2 (dedicated 2 MB/s per consumer).',
          ),
        pollIntervalMs: z
          .number()
          .int()
          .min(200)
          .default(200)
          .describe(
            'Least time between two GetRecords calls of a shard (Kinesis allows 5 per second per shard, shared by every consumer).',
          ),
        maxRecords: z.number().int().min(1).max(10_000).default(10_000).describe("GetRecords Limit; the sink's maxBatch lowers it."),
        efoName: z
          .string()
          .min(1)
          .optional()
          .meta({ [DEFAULT_TEXT]: '`application`' })
          .describe('Enhanced fan-out consumer name (default: `application`); registered if missing.'),
        efoEndpoint: z
          .url()
          .optional()
          .meta({ [DEFAULT_TEXT]: '`endpoint`' })
          .describe('Endpoint for SubscribeToShard (HTTP/2), when it differs from `endpoint` (kinesis-mock: its TLS port).'),
        tlsRejectUnauthorized: z
          .boolean()
          .default(true)
          .describe('false accepts a self-signed certificate on `efoEndpoint` (local emulators only).'),
        deaggregate: z.boolean().default(true).describe('Split KPL-aggregated records into their user records.'),
        throttleBackoffMs: z.number().int().min(1).default(500).describe('First wait after a throttled read; doubles up to 10 s.'),
        fatalAfterMs: z
          .number()
          .int()
          .min(0)
          .default(60_000)
          .describe(
            'Read errors that retrying cannot fix (stream deleted, credentials refused) lasting this long stop Sluice with a non-zero exit; 0: retry forever.',
          ),
      })
      .strict()
      .prefault({})
      .describe('How shards are read: polling (GetRecords) or enhanced fan-out.'),
    leases: z
      .object({
        type: z
          .enum(['dynamodb', 'file'])
          .default('dynamodb')
          .describe('dynamodb: a KCL-style lease table shared by every instance; file: one instance, checkpoints in a local JSON file.'),
        table: z
          .string()
          .min(3)
          .max(255)
          .optional()
          .meta({ [DEFAULT_TEXT]: '`application`' })
          .describe('Lease table (default: `application`).'),
        createTable: z.boolean().default(true).describe('Create the lease table (on-demand billing) if it does not exist.'),
        endpoint: endpointSchema,
        path: z.string().min(1).default('./kinesis-checkpoints.json').describe('Checkpoint file for type file.'),
        workerId: z
          .string()
          .min(1)
          .optional()
          .meta({ [DEFAULT_TEXT]: 'host-pid-random' })
          .describe(
            "This instance's lease owner name (default: host-pid-random). A stable one (pod name) lets a restarted instance take its leases back at once.",
          ),
        durationMs: z
          .number()
          .int()
          .min(1_000)
          .default(10_000)
          .describe('A lease not renewed for this long is taken over (failover time).'),
        renewIntervalMs: z
          .number()
          .int()
          .min(100)
          .optional()
          .meta({ [DEFAULT_TEXT]: 'a third of `durationMs`' })
          .describe('How often owned leases are renewed (default: a third of durationMs).'),
        takeIntervalMs: z
          .number()
          .int()
          .min(100)
          .optional()
          .meta({ [DEFAULT_TEXT]: '`durationMs`' })
          .describe('How often the table is scanned to take free, expired or excess leases (default: durationMs).'),
        shardSyncIntervalMs: z
          .number()
          .int()
          .min(1_000)
          .default(60_000)
          .describe('How often ListShards looks for new shards (resharding); also done when a shard ends.'),
      })
      .strict()
      .prefault({})
      .describe('Shard leases (which instance reads which shard) and checkpoints.'),
    checkpointIntervalMs: z
      .number()
      .int()
      .min(1)
      .default(5_000)
      .describe('How often processed positions are written; also on lease loss and on shutdown.'),
    nackDelayMs: z.number().int().min(0).default(100).describe('Delay before a nacked event is delivered again.'),
    publish: z
      .object({
        maxAttempts: z.number().int().min(1).default(8).describe('PutRecords tries per batch; failed entries only are sent again.'),
        initialBackoffMs: z
          .number()
          .int()
          .min(1)
          .default(100)
          .describe('Wait before the second PutRecords try (doubles per try, jittered).'),
        maxBackoffMs: z.number().int().min(1).default(5_000).describe('Longest wait between PutRecords tries.'),
        headers: z
          .enum(['envelope', 'drop'])
          .default('envelope')
          .describe(
            'Kinesis records have no headers. envelope: an event with headers is written as a JSON envelope the source unwraps; drop: headers are lost.',
          ),
      })
      .strict()
      .prefault({})
      .describe('The publisher (PutRecords): dead letters, bridging, benchmark load.'),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.startFrom === 'AT_TIMESTAMP' && config.startTimestamp === undefined) {
      context.addIssue({ code: 'custom', path: ['startTimestamp'], message: 'required when startFrom is AT_TIMESTAMP' });
    }
    const { durationMs, renewIntervalMs } = config.leases;
    if (renewIntervalMs !== undefined && renewIntervalMs * 2 > durationMs) {
      context.addIssue({ code: 'custom', path: ['leases', 'renewIntervalMs'], message: 'must be at most half of leases.durationMs' });
    }
  })
  .describe('Amazon Kinesis Data Streams (broker.type kinesis): shards shared by lease, checkpoints in DynamoDB (or a file).');

export type KinesisConfig = z.infer<typeof kinesisConfigSchema>;
