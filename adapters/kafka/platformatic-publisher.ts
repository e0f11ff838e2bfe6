import { Admin, compatibilityPartitioner, Producer, ProduceAcks } from '@platformatic/kafka';
import type { OutgoingEvent } from '../../src/broker/contract.ts';
import type { SluiceError } from '../../src/errors.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaPublisherCore } from './kafka-publisher-core.ts';
import { platformaticError, type platformaticOptions } from './platformatic-client.ts';

const ACKS = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const;

/**
 * The @platformatic/kafka publisher: acks all and idempotent by default. Keys route with the
 * Java client's murmur2 partitioner (the client's `compatibilityPartitioner`; its default one
 * differs), so it agrees with kafkajs and Java producers on a key's partition.
 */
export class PlatformaticPublisher extends KafkaPublisherCore {
  private producer: Producer<Buffer, Buffer, string, string> | undefined;

  constructor(
    private readonly options: ReturnType<typeof platformaticOptions>,
    config: KafkaConfig,
  ) {
    super(config);
  }

  protected async openProducer(): Promise<void> {
    // The brokers must answer first: an idempotent producer retries without end (which it
    // needs for its guarantees), so its own first request would never report them unreachable.
    const probe = new Admin(this.options);
    try {
      await probe.metadata({ topics: [] });
    } finally {
      await probe.close().catch(() => undefined);
    }
    const { idempotent, allowAutoTopicCreation } = this.config.producer;
    this.producer = new Producer<Buffer, Buffer, string, string>({
      ...this.options,
      idempotent,
      ...(idempotent ? { retries: Number.MAX_SAFE_INTEGER } : {}),
      autocreateTopics: allowAutoTopicCreation,
      serializers: {
        headerKey: (text) => (text === undefined ? undefined : Buffer.from(text)),
        headerValue: (text) => (text === undefined ? undefined : Buffer.from(text)),
      },
    });
  }

  protected async send(destination: string, chunk: readonly OutgoingEvent[]): Promise<void> {
    const { acks, compression } = this.config.producer;
    await this.producer!.send({
      messages: chunk.map((event) => ({
        topic: destination,
        key: event.key === undefined ? undefined : Buffer.from(event.key),
        value: event.payload,
        headers: event.headers ? new Map(Object.entries(event.headers)) : undefined,
      })),
      acks: ACKS[acks],
      compression,
      partitioner: (_message, key) => compatibilityPartitioner(_message, key),
    });
  }

  protected async closeProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  protected toSluiceError(error: unknown, what: string): SluiceError {
    return platformaticError(error, this.config, what);
  }
}
