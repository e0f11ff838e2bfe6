import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';
import { toSluiceError, within } from './client.ts';
import type { KafkaConfig } from './config.ts';

const ACKS = { all: -1, leader: 1, none: 0 } as const;
const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;

/** Splits a batch into runs of at most `maxBytes` (payload + key + headers), keeping order. */
export function chunkByBytes(messages: Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    let size = 64 + (message.value?.length ?? 0) + (message.key?.length ?? 0);
    if (message.headers) for (const [name, value] of Object.entries(message.headers)) size += name.length + String(value ?? '').length;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Publishes batches to any topic (dead letters, benchmark load, bridging). Each publish is sent
 * as one produce request per `maxBatchBytes` of records, in order, and resolves only when the
 * brokers acknowledged all of it (acks all by default, idempotent by default, so a retried
 * request neither duplicates nor reorders). Keys route with the Java client's murmur2
 * partitioner, so Sluice and Java producers agree on a key's partition.
 */
export class KafkaPublisher implements Publisher {
  private producer: Producer | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: KafkaConfig,
  ) {}

  connect(): Promise<void> {
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.connect();
    const producer = this.producer;
    if (!producer) throw new SluiceError('kafka publisher is closed', { retriable: false });
    const { acks, compression, maxBatchBytes, timeoutMs } = this.config.producer;
    const messages = events.map(
      (event): Message => ({ key: event.key ?? null, value: event.payload, headers: event.headers as Message['headers'] }),
    );
    for (const chunk of chunkByBytes(messages, maxBatchBytes)) {
      try {
        await within(
          producer.send({
            topic: destination,
            messages: chunk,
            acks: ACKS[acks],
            compression: COMPRESSION[compression],
            timeout: timeoutMs,
          }),
          timeoutMs,
          () => `kafka: publish to ${destination} not confirmed within ${timeoutMs} ms (broker.kafka.producer.timeoutMs)`,
        );
      } catch (error) {
        throw toSluiceError(error, this.config, `publish to ${destination}`);
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    // kafkajs' send resolves only when acknowledged, so nothing is buffered to flush here.
    if (producer) await producer.disconnect().catch(() => undefined);
  }

  private async open(): Promise<void> {
    const { idempotent, allowAutoTopicCreation } = this.config.producer;
    const producer = this.kafka.producer({
      idempotent,
      // kafkajs implements KIP-98's original idempotence, which needs one request in flight per
      // connection. Chunks of one publish are awaited one after the other either way.
      ...(idempotent ? { maxInFlightRequests: 1 } : {}),
      allowAutoTopicCreation,
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer retries a send until it is acknowledged (fewer retries could
      // break its guarantees); the publish timeout bounds how long a caller waits for it.
      retry: {
        retries: idempotent ? Number.MAX_SAFE_INTEGER : this.config.retry.retries,
        initialRetryTime: this.config.retry.initialRetryTimeMs,
        maxRetryTime: this.config.retry.maxRetryTimeMs,
      },
    });
    try {
      await within(
        producer.connect(),
        this.config.startTimeoutMs,
        () => `kafka: producer could not connect within ${this.config.startTimeoutMs} ms`,
      );
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toSluiceError(error, this.config, 'connect the producer');
    }
    this.producer = producer;
  }
}
