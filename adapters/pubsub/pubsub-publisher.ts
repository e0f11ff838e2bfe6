import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { NotFoundError, SluiceError } from '../../src/errors.ts';
import { createClient, grpcCode, GrpcCode, toSluiceError } from './client.ts';
import { type PubSubConfig, replaySubscriptionOf } from './config.ts';
import { ensureReplaySubscription, ensureTopic } from './resources.ts';

/** Pub/Sub rejects attribute values over 1024 bytes; a dead letter must not fail on a long error text. */
const MAX_ATTRIBUTE_BYTES = 1024;

function attributesOf(headers: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  let result: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (value.length * 3 > MAX_ATTRIBUTE_BYTES && Buffer.byteLength(value) > MAX_ATTRIBUTE_BYTES) {
      result ??= { ...headers };
      result[name] = truncateUtf8(value, MAX_ATTRIBUTE_BYTES);
    }
  }
  return result ?? (headers as Record<string, string>);
}

/**
 * Pub/Sub refuses a publish request over 10 MiB, so no message can be larger. Neither the client
 * nor the emulators refuse one up front: the client sends it, the request is refused or dropped
 * on the way, and the client retries it until its total timeout, so the publish would hang until
 * publisher.timeoutMs and then fail as retriable, and a dead-letter writer would try forever.
 */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** What a message weighs against {@link MAX_MESSAGE_BYTES}: data, attributes, ordering key. */
function messageBytes(data: Buffer, attributes: Record<string, string> | undefined, orderingKey: string | undefined): number {
  let bytes = data.length + (orderingKey ? Buffer.byteLength(orderingKey) : 0);
  for (const [name, value] of Object.entries(attributes ?? {})) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text).subarray(0, maxBytes);
  // Drop a trailing partial character (its replacement char would be 3 bytes).
  return bytes.toString('utf8').replace(/\uFFFD$/, '');
}

/**
 * Publishes through the client's batching publisher (maxMessages / maxBytes / maxMilliseconds).
 * Events with a key are published with it as ordering key (messageOrdering on the topic handle),
 * headers become attributes. publish() resolves only when every message got its server id.
 * After a failure of an ordered publish the client pauses that key; it is resumed
 * (resumePublishing) before the error is reported, so that the caller can try again.
 */
export class PubSubPublisher implements Publisher {
  private client: PubSub | undefined;
  private readonly topics = new Map<string, Topic>();
  /**
   * Topics this publisher created (createResources), by name: concurrent publishes that found the
   * topic missing all wait for the one creation and then try again (a bridge sends several batches
   * to a new topic at once; only the first used to be retried, the others failed as not found).
   */
  private readonly created = new Map<string, Promise<void>>();
  /** Dead-letter topics whose replay subscription was ensured (or is being ensured), by name. */
  private readonly retained = new Map<string, Promise<void>>();

  /**
   * `deadLetters`: this publisher writes dead letters. With createResources, before the first
   * publish to a topic it creates the topic and its replay subscription
   * (deadLetterReplaySubscription) unless they exist, so that every dead letter is retained for
   * `sluice replay` from the first one on (a subscription keeps only what is published after it exists).
   */
  constructor(
    private readonly config: PubSubConfig,
    private readonly deadLetters = false,
  ) {}

  async connect(): Promise<void> {
    this.client ??= createClient(this.config);
  }

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.deadLetters) await this.retain(destination);
    try {
      await this.publishOnce(destination, events);
    } catch (error) {
      // Development convenience: with createResources, a missing topic (e.g. `<source>.dlq`) is created.
      if (!this.config.createResources || grpcCode(error) !== GrpcCode.NOT_FOUND) {
        throw toSluiceError(error, `publish to topic ${destination}`, this.config);
      }
      // One creation per topic, awaited by every publish that found it missing; each then tries
      // once more (a topic deleted after its creation fails that try: never created in a loop).
      let creating = this.created.get(destination);
      if (creating === undefined) {
        creating = ensureTopic(this.pubsub(), destination, this.config);
        this.created.set(destination, creating);
        creating.catch(() => this.created.delete(destination));
      }
      await creating;
      try {
        await this.publishOnce(destination, events);
      } catch (retryError) {
        throw toSluiceError(retryError, `publish to topic ${destination}`, this.config);
      }
    }
  }

  async close(): Promise<void> {
    const topics = [...this.topics.values()];
    this.topics.clear();
    await Promise.allSettled(topics.map((topic) => topic.flush()));
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  /** Ensures the topic and its replay subscription once per topic (again after a failure). */
  private async retain(destination: string): Promise<void> {
    const subscription = replaySubscriptionOf(this.config, destination);
    if (!this.config.createResources || subscription === undefined) return;
    let retaining = this.retained.get(destination);
    if (retaining === undefined) {
      retaining = (async () => {
        try {
          await ensureReplaySubscription(this.pubsub(), destination, subscription, this.config);
        } catch (error) {
          // The topic is missing: create it, then the subscription. (Not CreateTopic first: on a
          // topic that exists it needs a permission a deployment may not have granted.)
          if (!(error instanceof NotFoundError)) throw error;
          await ensureTopic(this.pubsub(), destination, this.config);
          await ensureReplaySubscription(this.pubsub(), destination, subscription, this.config);
        }
      })();
      this.retained.set(destination, retaining);
      retaining.catch(() => this.retained.delete(destination));
    }
    try {
      await retaining;
    } catch (error) {
      throw toSluiceError(error, `create the replay subscription ${subscription} of dead-letter topic ${destination}`, this.config);
    }
  }

  private pubsub(): PubSub {
    this.client ??= createClient(this.config);
    return this.client;
  }

  private topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      const options = this.config.publisher;
      topic = this.pubsub().topic(name, {
        batching: { maxMessages: options.maxMessages, maxBytes: options.maxBytes, maxMilliseconds: options.maxMilliseconds },
        messageOrdering: options.messageOrdering,
      });
      this.topics.set(name, topic);
    }
    return topic;
  }

  private async publishOnce(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    const topic = this.topic(destination);
    const ordering = this.config.publisher.messageOrdering;
    const messages = events.map((event) => ({
      data: event.payload,
      attributes: attributesOf(event.headers),
      orderingKey: ordering && event.key ? event.key : undefined,
    }));
    // Checked before any is sent: a batch goes out whole or not at all. Not retriable: the
    // same event is as large next time (the caller nacks or dead-letters it).
    messages.forEach(({ data, attributes, orderingKey }, i) => {
      const bytes = messageBytes(data, attributes, orderingKey);
      if (bytes > MAX_MESSAGE_BYTES) {
        throw new SluiceError(
          `pubsub: publish to topic ${destination}: event ${i + 1} of ${events.length} is ${bytes} bytes (data, attributes and ordering key), over Pub/Sub's limit of ${MAX_MESSAGE_BYTES} bytes per message; nothing of this batch was sent`,
          { retriable: false },
        );
      }
    });
    const pending = messages.map((message) => topic.publishMessage(message));
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.config.publisher.timeoutMs;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const settled = Promise.allSettled(pending).then((results) => {
      // A failed ordered publish pauses its key in the client; resume it so a retry can go through.
      if (ordering) {
        results.forEach((result, i) => {
          if (result.status === 'rejected' && events[i]!.key) topic.resumePublishing(events[i]!.key!);
        });
      }
      return results;
    });
    const outcome = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      throw new SluiceError(`pubsub: publish to topic ${destination}: not confirmed within ${timeoutMs} ms`, { retriable: true });
    }
    const failed = outcome.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
