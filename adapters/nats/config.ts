import { z } from 'zod';

/** JetStream names (stream, durable consumer) have no whitespace, `.`, `*`, `>`, `/` or `\`. */
const jsName = z.string().regex(/^[^\s.*>/\\]{1,255}$/, 'a JetStream name (no whitespace, ".", "*", ">", "/", "\\")');
const ms = (min: number, fallback: number, what: string) => z.number().int().min(min).default(fallback).describe(what);

/** `broker.nats`: NATS JetStream, a durable pull consumer. Imports no SDK, so validating a config loads none. */
export const natsConfigSchema = z
  .object({
    servers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:4222']).describe('NATS servers, host:port; the client fails over.'),
    user: z.string().min(1).optional().describe('User name, with `pass` or `passEnv`, if the server requires one.'),
    pass: z.string().min(1).optional().describe('Password of `user` (prefer `passEnv`: a config file is no place for a secret).'),
    passEnv: z.string().min(1).optional().describe('Environment variable holding the password of `user` (a Secret).'),
    token: z.string().min(1).optional().describe('Authentication token, if the server requires one (prefer `tokenEnv`).'),
    tokenEnv: z.string().min(1).optional().describe('Environment variable holding the authentication token (a Secret).'),
    credsFile: z
      .string()
      .min(1)
      .optional()
      .describe("Credentials file (a user's JWT and NKey seed) for servers with decentralized (operator) auth."),
    tls: z
      .union([
        z.boolean(),
        z
          .object({
            ca: z
              .string()
              .min(1)
              .optional()
              .describe("PEM file of the CA that signed the servers' certificates (default: the system CAs)."),
            cert: z.string().min(1).optional().describe('PEM client certificate file, for mutual TLS.'),
            key: z.string().min(1).optional().describe('PEM private key file of `cert`.'),
            rejectUnauthorized: z.boolean().default(true).describe("Verify the servers' certificates. Turn off only for testing."),
            servername: z.string().min(1).optional().describe('TLS server name (SNI) when it differs from the server host.'),
          })
          .strict(),
      ])
      .default(false)
      .describe('TLS: true (system CAs) or files for CA / client certificate. false: TLS only where a server requires it.'),
    stream: jsName.default('events').describe('Stream the source reads: the `source` of events (dead letters: `<stream>.dlq`).'),
    subjects: z.array(z.string().min(1)).min(1).optional().describe('Subjects of a stream created here. Default: [stream].'),
    consumer: jsName.default('sluice').describe('Durable pull consumer; sources on the same one share the work.'),
    filterSubject: z.string().min(1).optional().describe('filter_subject of a consumer created here.'),
    createResources: z.boolean().default(false).describe('Create missing stream, consumer, dead-letter stream (development).'),
    startFrom: z.enum(['earliest', 'latest']).default('earliest').describe('deliver_policy of a consumer created here: all, or new.'),
    ackWaitMs: ms(1000, 30_000, 'ack_wait of a consumer created here: unacked that long (with no heartbeat), a message is redelivered.'),
    workingIntervalMs: z.number().int().min(100).optional().describe('Heartbeats (working()) of held messages. Default: ack_wait / 3.'),
    nackDelayMs: ms(0, 1000, 'Delay before the server delivers a nacked message again (nak with delay).'),
    maxDeliver: ms(0, 0, 'Deliveries at most; the next goes to deadLetterSubject (acked), not to the handler. 0: no limit.'),
    deadLetterSubject: z.string().min(1).default('{source}.dlq').describe('Subject of messages past maxDeliver; {source}: the stream.'),
    maxAckPending: ms(1, 20_000, 'max_ack_pending of a consumer created here (about queue.maxEvents + pool.size).'),
    ordered: z.boolean().default(false).describe('Order across nacks and restarts: max_ack_pending 1 (one at a time).'),
    connectTimeoutMs: ms(100, 10_000, 'Bound on connecting and checking or creating the stream and consumer at start.'),
    publishTimeoutMs: ms(100, 30_000, "How long a publish waits for the server's PubAck."),
  })
  .strict()
  .refine((config) => !(config.pass && config.passEnv), { message: 'give `pass` or `passEnv`, not both', path: ['passEnv'] })
  .refine((config) => !(config.token && config.tokenEnv), { message: 'give `token` or `tokenEnv`, not both', path: ['tokenEnv'] })
  .describe('NATS JetStream (broker.type nats): a stream read through a durable pull consumer.');

export type NatsConfig = z.infer<typeof natsConfigSchema>;
