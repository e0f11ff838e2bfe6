import { z } from 'zod';
import { DEFAULT_TEXT } from '../../src/config/schema.ts';

/**
 * `broker.pubsub`: Google Cloud Pub/Sub through @google-cloud/pubsub (streaming pull).
 * This file imports no SDK, so validating a config loads none.
 */
export const pubsubConfigSchema = z
  .object({
    projectId: z
      .string()
      .min(1)
      .optional()
      .meta({ [DEFAULT_TEXT]: "$PUBSUB_PROJECT_ID, else the credentials' project" })
      .describe('Google Cloud project. Default: $PUBSUB_PROJECT_ID (emulator), else the project of the application default credentials.'),
    endpoint: z
      .string()
      .min(1)
      .optional()
      .meta({ [DEFAULT_TEXT]: '$PUBSUB_EMULATOR_HOST, else pubsub.googleapis.com' })
      .describe('host:port of the API, e.g. 127.0.0.1:8085 for the emulator. Default: $PUBSUB_EMULATOR_HOST, else pubsub.googleapis.com.'),
    emulator: z
      .boolean()
      .optional()
      .meta({ [DEFAULT_TEXT]: 'true for an endpoint not on googleapis.com' })
      .describe(
        'Plain-text connection without credentials. Default: true when an endpoint (or $PUBSUB_EMULATOR_HOST) is set that is not *.googleapis.com.',
      ),
    topic: z
      .string()
      .min(1)
      .default('events')
      .describe('Topic the subscription is attached to (created with createResources; the publisher default).'),
    subscription: z
      .string()
      .min(1)
      .default('sluice')
      .describe('Subscription the source reads; it is also the `source` of events, so dead letters go to `<subscription>.dlq`.'),
    createResources: z
      .boolean()
      .default(false)
      .describe(
        'Create the topic and subscription (with `subscriptionSettings`) at start if missing: for development. Otherwise start fails if the subscription is missing.',
      ),
    deadLetterReplaySubscription: z
      .union([
        z
          .string()
          .regex(/\{topic\}/, 'must contain {topic} (one subscription per dead-letter topic)')
          .regex(/^[^{}]*\{topic\}[^{}]*$/, 'may use {topic} only'),
        z.literal(false),
      ])
      .default('{topic}-replay')
      .describe(
        'Dead letters published to Pub/Sub are kept for `sluice replay` in this subscription of their topic ({topic}: the dead-letter topic). With createResources, the dead-letter writer creates it (with the topic) before its first dead letter, so every dead letter is retained; otherwise your infrastructure creates it. `sluice replay` reads it by default. false: none (a replay then reads only what is published after its subscription exists).',
      ),
    subscriptionSettings: z
      .object({
        ackDeadlineSeconds: z
          .number()
          .int()
          .min(10)
          .max(600)
          .default(10)
          .describe('Ack deadline the subscription is created with (the client extends leases on top of it).'),
        messageOrdering: z
          .boolean()
          .default(true)
          .describe('enableMessageOrdering: messages of one ordering key are delivered in publish order.'),
        exactlyOnceDelivery: z
          .boolean()
          .default(false)
          .describe('enableExactlyOnceDelivery: acks are confirmed by the server (Sluice waits for the confirmation).'),
        deadLetterTopic: z
          .string()
          .min(1)
          .optional()
          .describe("Pub/Sub's own dead-letter policy: the topic undeliverable messages are forwarded to (created too)."),
        maxDeliveryAttempts: z
          .number()
          .int()
          .min(5)
          .max(100)
          .default(5)
          .describe('Delivery attempts before Pub/Sub forwards a message to deadLetterTopic.'),
      })
      .strict()
      .prefault({})
      .describe('Settings of a subscription that Sluice creates (createResources, BrokerAdmin); an existing subscription keeps its own.'),
    flowControl: z
      .object({
        maxMessages: z
          .number()
          .int()
          .min(1)
          .optional()
          .meta({ [DEFAULT_TEXT]: 'queue.maxEvents + one batch + inFlight' })
          .describe(
            'Messages the client holds unacked at most. Default: queue.maxEvents + one batch + inFlight, so events are not buffered twice.',
          ),
        maxBytes: z
          .number()
          .int()
          .min(1)
          .optional()
          .meta({ [DEFAULT_TEXT]: 'queue.maxBytes, scaled like maxMessages' })
          .describe('Bytes the client holds unacked at most. Default: queue.maxBytes scaled like maxMessages.'),
        inFlight: z
          .number()
          .int()
          .min(0)
          .default(64)
          .describe('Events expected to be in workers at once (about pool.size): added to the default maxMessages.'),
      })
      .strict()
      .prefault({})
      .describe('Client flow control (allowExcessMessages is always false).'),
    streams: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(4)
      .describe(
        'Concurrent StreamingPull streams (one stream delivers ~2,000 messages/s from the emulator; the client library defaults to 5).',
      ),
    lease: z
      .object({
        maxExtensionMinutes: z
          .number()
          .min(0.1)
          .max(24 * 60)
          .default(60)
          .describe('Longest time a message is kept leased (modAck-extended) while Sluice holds it; after that Pub/Sub redelivers it.'),
        minAckDeadlineSeconds: z
          .number()
          .int()
          .min(10)
          .max(600)
          .optional()
          .meta({ [DEFAULT_TEXT]: "the client's" })
          .describe('Lower bound of the lease length the client asks for per extension.'),
        maxAckDeadlineSeconds: z
          .number()
          .int()
          .min(10)
          .max(600)
          .optional()
          .meta({ [DEFAULT_TEXT]: "the client's" })
          .describe('Upper bound of the lease length the client asks for per extension.'),
      })
      .strict()
      .prefault({})
      .describe('Lease management of messages Sluice holds (modAck extensions).'),
    probe: z
      .object({
        intervalMs: z
          .number()
          .int()
          .min(0)
          .default(10_000)
          .describe(
            'While no message arrives for this long, ask the server (GetSubscription) whether it answers; also at once when a stream ends. A failed probe makes Sluice unready (the client retries a cut stream silently). 0: off.',
          ),
        timeoutMs: z.number().int().min(100).default(5_000).describe('How long a probe may take before the server counts as unreachable.'),
      })
      .strict()
      .prefault({})
      .describe('Reachability probe of the subscription.'),
    redeliveries: z
      .object({
        rememberAcked: z
          .number()
          .int()
          .min(0)
          .default(100_000)
          .describe(
            'Ids of acked messages remembered, so that a copy Pub/Sub delivers again is acked without a second handler call. 0: off.',
          ),
        windowSeconds: z.number().int().min(1).default(600).describe('How long an acked id is remembered.'),
      })
      .strict()
      .prefault({})
      .describe('Copies of messages Sluice already finished or still holds (at-least-once redeliveries).'),
    ordering: z
      .object({
        guard: z
          .enum(['off', 'nack', 'strict'])
          .default('nack')
          .describe(
            'Ordered subscriptions. nack: when an event is nacked, the later events of its key that no worker started are taken back and nacked, and new ones held until it is delivered again, so they cannot overtake it. strict: also only one event per key in the core at a time. off: neither (a nacked event may be overtaken).',
          ),
        redeliveryWaitMs: z
          .number()
          .int()
          .min(100)
          .default(60_000)
          .describe('After a nack, how long later events of the key are held waiting for the redelivery of the nacked one.'),
      })
      .strict()
      .prefault({})
      .describe('Ordering keys on an ordered subscription.'),
    publisher: z
      .object({
        maxMessages: z.number().int().min(1).max(1000).default(100).describe('Messages per publish request at most.'),
        maxBytes: z
          .number()
          .int()
          .min(1)
          .max(10 * 1024 * 1024)
          .default(1024 * 1024)
          .describe('Bytes per publish request at most.'),
        maxMilliseconds: z.number().int().min(0).default(10).describe('How long a batch waits to fill before it is sent.'),
        messageOrdering: z.boolean().default(true).describe('Publish events with a key as ordering key (one batch in flight per key).'),
        timeoutMs: z.number().int().min(1).default(60_000).describe('How long a publish may take before it counts as failed.'),
      })
      .strict()
      .prefault({})
      .describe('The publisher: dead letters, bridging, benchmark load.'),
    connectTimeoutMs: z.number().int().min(100).default(10_000).describe('Bound on checking / creating resources at start.'),
    closeTimeoutMs: z.number().int().min(1000).default(10_000).describe('Bound on nacking what is left and flushing acks at close.'),
  })
  .strict()
  .describe('Google Cloud Pub/Sub (broker.type pubsub): a subscription read by streaming pull.');

export type PubSubConfig = z.infer<typeof pubsubConfigSchema>;

/** The subscription that retains the dead letters of `topic` (deadLetterReplaySubscription), if any. */
export function replaySubscriptionOf(config: Pick<PubSubConfig, 'deadLetterReplaySubscription'>, topic: string): string | undefined {
  const template = config.deadLetterReplaySubscription;
  return template === false ? undefined : template.replace('{topic}', topic);
}
