import type { PubSub } from '@google-cloud/pubsub';
import type { BrokerAdmin } from '../../src/broker/tooling.ts';
import { bounded, createClient, gaxTimeout, grpcCode, GrpcCode } from './client.ts';
import type { PubSubConfig } from './config.ts';

/** What the source needs to know about the subscription it reads. */
export interface SubscriptionInfo {
  /** Full name, `projects/p/subscriptions/s`. */
  name: string;
  topic: string;
  messageOrdering: boolean;
  exactlyOnceDelivery: boolean;
  ackDeadlineSeconds: number;
  deadLetterTopic: string | undefined;
  maxDeliveryAttempts: number | undefined;
}

/** Creates a topic unless it exists (ALREADY_EXISTS is success: another replica may race us). */
export async function ensureTopic(client: PubSub, name: string, config: PubSubConfig): Promise<void> {
  await bounded(`create topic ${name}`, config.connectTimeoutMs, config, async () => {
    try {
      await client.createTopic(name, gaxTimeout(config.connectTimeoutMs));
    } catch (error) {
      if (grpcCode(error) !== GrpcCode.ALREADY_EXISTS) throw error;
    }
  });
}

/**
 * Creates `config.subscription` on `topic` with `subscriptionSettings` (ordering, exactly-once,
 * ack deadline, Pub/Sub's own dead-letter policy and its topic) unless it exists.
 */
export async function ensureSubscription(client: PubSub, topic: string, config: PubSubConfig): Promise<void> {
  const settings = config.subscriptionSettings;
  await ensureTopic(client, topic, config);
  if (settings.deadLetterTopic) await ensureTopic(client, settings.deadLetterTopic, config);
  await bounded(`create subscription ${config.subscription}`, config.connectTimeoutMs, config, async () => {
    try {
      await client.topic(topic).createSubscription(config.subscription, {
        ackDeadlineSeconds: settings.ackDeadlineSeconds,
        enableMessageOrdering: settings.messageOrdering,
        enableExactlyOnceDelivery: settings.exactlyOnceDelivery,
        ...(settings.deadLetterTopic
          ? {
              deadLetterPolicy: {
                deadLetterTopic: client.topic(settings.deadLetterTopic).name,
                maxDeliveryAttempts: settings.maxDeliveryAttempts,
              },
            }
          : {}),
        gaxOpts: gaxTimeout(config.connectTimeoutMs),
      });
    } catch (error) {
      if (grpcCode(error) !== GrpcCode.ALREADY_EXISTS) throw error;
    }
  });
}

/** Pub/Sub's longest retention of unacked messages in a subscription: 7 days. */
const MAX_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Creates the subscription `name` that retains the dead letters of `topic` for `sluice replay`
 * (deadLetterReplaySubscription) unless it exists: messages are kept from its creation on, so it
 * is created before the first dead letter is published. It keeps unacked messages as long as
 * Pub/Sub allows (7 days) and never expires (the default deletes a subscription after 31 days
 * without a reader, and a dead-letter topic may well go unread for that long).
 */
export async function ensureReplaySubscription(client: PubSub, topic: string, name: string, config: PubSubConfig): Promise<void> {
  await bounded(`create subscription ${name}`, config.connectTimeoutMs, config, async () => {
    try {
      await client.topic(topic).createSubscription(name, {
        ackDeadlineSeconds: config.subscriptionSettings.ackDeadlineSeconds,
        enableMessageOrdering: config.subscriptionSettings.messageOrdering,
        messageRetentionDuration: { seconds: MAX_RETENTION_SECONDS },
        expirationPolicy: {},
        gaxOpts: gaxTimeout(config.connectTimeoutMs),
      });
    } catch (error) {
      if (grpcCode(error) !== GrpcCode.ALREADY_EXISTS) throw error;
    }
  });
}

/** Reads the subscription's settings; a missing one is a NotFoundError naming it. */
export async function describeSubscription(client: PubSub, config: PubSubConfig): Promise<SubscriptionInfo> {
  const subscription = client.subscription(config.subscription);
  const [metadata] = await bounded(`subscription ${subscription.name}`, config.connectTimeoutMs, config, () =>
    subscription.getMetadata(gaxTimeout(config.connectTimeoutMs)),
  );
  return {
    name: subscription.name,
    topic: metadata.topic ?? '',
    messageOrdering: metadata.enableMessageOrdering === true,
    exactlyOnceDelivery: metadata.enableExactlyOnceDelivery === true,
    ackDeadlineSeconds: metadata.ackDeadlineSeconds ?? 10,
    deadLetterTopic: metadata.deadLetterPolicy?.deadLetterTopic ?? undefined,
    maxDeliveryAttempts: metadata.deadLetterPolicy?.maxDeliveryAttempts ?? undefined,
  };
}

/**
 * Fresh destinations for tests and benchmarks: `createDestination(name)` creates topic `name` and
 * the configured subscription on it (with `subscriptionSettings`); `deleteDestination(name)`
 * removes both. Pub/Sub has no partitions; the option is ignored.
 */
export class PubSubAdmin implements BrokerAdmin {
  private client: PubSub | undefined;

  constructor(private readonly config: PubSubConfig) {}

  private get pubsub(): PubSub {
    this.client ??= createClient(this.config);
    return this.client;
  }

  async createDestination(name: string): Promise<void> {
    await ensureSubscription(this.pubsub, name, this.config);
  }

  async deleteDestination(name: string): Promise<void> {
    const config = this.config;
    const ignoreMissing = (error: unknown) => {
      if (grpcCode(error) !== GrpcCode.NOT_FOUND) throw error;
    };
    await bounded(`delete subscription ${config.subscription}`, config.connectTimeoutMs, config, () =>
      this.pubsub
        .subscription(config.subscription)
        .delete(gaxTimeout(config.connectTimeoutMs))
        .then(() => undefined, ignoreMissing),
    );
    await bounded(`delete topic ${name}`, config.connectTimeoutMs, config, () =>
      this.pubsub
        .topic(name)
        .delete(gaxTimeout(config.connectTimeoutMs))
        .then(() => undefined, ignoreMissing),
    );
    const deadLetterTopic = config.subscriptionSettings.deadLetterTopic;
    if (deadLetterTopic) {
      await bounded(`delete topic ${deadLetterTopic}`, config.connectTimeoutMs, config, () =>
        this.pubsub
          .topic(deadLetterTopic)
          .delete(gaxTimeout(config.connectTimeoutMs))
          .then(() => undefined, ignoreMissing),
      );
    }
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
