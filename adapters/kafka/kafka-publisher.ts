import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { OutgoingEvent } from '../../src/broker/contract.ts';
import type { SluiceError } from '../../src/errors.ts';
import { toSluiceError } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaPublisherCore } from './kafka-publisher-core.ts';

const ACKS = { all: -1, leader: 1, none: 0 } as const;
const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;

/**
 * The kafkajs publisher (dead letters, benchmark load, bridging): acks all and idempotent by
 * default, so a retried request neither duplicates nor reorders. Keys route with the Java
 * client's murmur2 partitioner, so Sluice and Java producers agree on a key's partition.
 */
export class KafkaPublisher extends KafkaPublisherCore {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    config: KafkaConfig,
  ) {
    super(config);
  }

  protected async openProducer(): Promise<void> {
    const { idempotent, allowAutoTopicCreation } = this.config.producer;
    this.producer = this.kafka.producer({
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
    await this.producer.connect();
  }

  protected async send(destination: string, chunk: readonly OutgoingEvent[]): Promise<void> {
    const { acks, compression, timeoutMs } = this.config.producer;
    await this.producer!.send({
      topic: destination,
      messages: chunk.map(
        (event): Message => ({ key: event.key ?? null, value: event.payload, headers: event.headers as Message['headers'] }),
      ),
      acks: ACKS[acks],
      compression: COMPRESSION[compression],
      timeout: timeoutMs,
    });
  }

  protected async closeProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }

  protected toSluiceError(error: unknown, what: string): SluiceError {
    return toSluiceError(error, this.config, what);
  }
}
