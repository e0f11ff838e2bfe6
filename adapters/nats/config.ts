import { z } from 'zod';

/** JetStream names (stream, durable consumer): no whitespace, `.`, `*`, `>`, path separators. */
const jsName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s.*>/\\]+$/, 'a JetStream name has no whitespace, ".", "*", ">", "/" or "\\"');

/**
 * `broker.nats`: NATS JetStream through @nats-io/jetstream (a durable pull consumer).
 * This file imports no SDK, so validating a config loads none.
 */
export const natsConfigSchema = z
  .object({
    servers: z
      .array(z.string().min(1))
      .min(1)
      .default(['127.0.0.1:4222'])
      .describe('NATS servers, host:port (or nats://host:port); the client connects to one and fails over to the others.'),
    user: z.string().min(1).optional().describe('User name (with `pass`), if the server requires one.'),
    pass: z.string().min(1).optional().describe('Password of `user`.'),
    token: z.string().min(1).optional().describe('Authentication token, if the server requires one.'),
    stream: jsName.default('events').describe('Stream the source reads; it is also the `source` of events, so dead letters go to `<stream>.dlq`.'),
    subjects: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Subjects of a stream created with createResources. Default: the stream name itself (one subject).'),
    consumer: jsName.default('sluice').describe('Durable pull consumer the source reads through; sources with the same one share the work.'),
    filterSubject: z.string().min(1).optional().describe('Only messages on this subject (wildcards allowed), for a consumer created with createResources.'),
    createResources: z
      .boolean()
      .default(false)
      .describe(
        'Create the stream and the durable consumer at start if missing, and a stream for a dead-letter subject that none captures: for development. Otherwise start fails naming the missing one.',
      ),
    startFrom: z.enum(['earliest', 'latest']).default('earliest').describe('Where a consumer created with createResources starts.'),
    ackWaitMs: z
      .number()
      .int()
      .min(1000)
      .default(30_000)
      .describe('ack_wait of a created consumer: a message unacked this long is redelivered, unless Sluice sends in-progress heartbeats.'),
    workingIntervalMs: z
      .number()
      .int()
      .min(100)
      .optional()
      .describe(
        'How often an in-progress heartbeat (`working()`) resets the ack wait of messages Sluice still holds (queued or in a worker). Default: a third of the consumer\'s ack_wait.',
      ),
    nackDelayMs: z.number().int().min(0).default(1000).describe('Delay the server waits before delivering a nacked message again (nak with delay).'),
    maxDeliver: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Deliveries of a message at most; the next one is not handed to the handler but published to deadLetterSubject and acked (a poison message that crashes Sluice, or one nacked forever). 0: no limit.',
      ),
    deadLetterSubject: z
      .string()
      .min(1)
      .default('{source}.dlq')
      .describe('Where messages past maxDeliver go, in Sluice\'s dead-letter format; {source} is the stream.'),
    maxAckPending: z
      .number()
      .int()
      .min(1)
      .default(20_000)
      .describe('max_ack_pending of a created consumer: messages delivered and not yet acked, at most (about queue.maxEvents + pool.size).'),
    ordered: z
      .boolean()
      .default(false)
      .describe(
        'Strict stream order even across nacks, redeliveries and restarts: the consumer is made (and must be) max_ack_pending 1, one message at a time; slow.',
      ),
    connectTimeoutMs: z.number().int().min(100).default(10_000).describe('Bound on connecting and on checking / creating the stream and consumer at start.'),
    publishTimeoutMs: z.number().int().min(100).default(30_000).describe('How long a publish waits for the server\'s PubAck.'),
  })
  .strict()
  .refine((config) => (config.user === undefined) === (config.pass === undefined), {
    message: 'user and pass go together',
    path: ['pass'],
  })
  .describe('NATS JetStream (broker.type nats): a stream read through a durable pull consumer.');

export type NatsConfig = z.infer<typeof natsConfigSchema>;
