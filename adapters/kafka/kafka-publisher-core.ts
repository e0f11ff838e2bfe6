import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';
import { within } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { checkBrokerCertificates } from './certificate-check.ts';
import { producerStateLost } from './protocol-errors.ts';

/** Splits a batch into runs of at most `maxBytes` (payload + key + headers), keeping order. */
export function chunkByBytes<T extends OutgoingEvent>(events: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const event of events) {
    let size = 64 + event.payload.length + (event.key?.length ?? 0);
    if (event.headers) for (const [name, value] of Object.entries(event.headers)) size += name.length + value.length;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * What both Kafka publishers share: connect once (again after a failure), send each publish as
 * one request per `maxBatchBytes` of records, in order, each bounded by `producer.timeoutMs`,
 * errors mapped to Sluice errors. A client binding opens, sends one chunk and closes.
 * A send that fails because the idempotent producer's state no longer matches the brokers'
 * ({@link producerStateLost}) drops that producer: the error reaches the caller (retriable), and
 * the next publish connects a new one instead of failing the same way for good.
 */
export abstract class KafkaPublisherCore implements Publisher {
  private connecting: Promise<void> | undefined;
  private open = false;

  constructor(protected readonly config: KafkaConfig) {}

  /** Creates and connects the client's producer. */
  protected abstract openProducer(): Promise<void>;
  /** Sends one chunk; resolves when the brokers acknowledged all of it. */
  protected abstract send(destination: string, chunk: readonly OutgoingEvent[]): Promise<void>;
  protected abstract closeProducer(): Promise<void>;
  protected abstract toSluiceError(error: unknown, what: string): SluiceError;

  connect(): Promise<void> {
    this.connecting ??= this.connectNow().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.connect();
    if (!this.open) throw new SluiceError('kafka publisher is closed', { retriable: false });
    const { maxBatchBytes, timeoutMs } = this.config.producer;
    for (const chunk of chunkByBytes(events, maxBatchBytes)) {
      try {
        await within(
          this.send(destination, chunk),
          timeoutMs,
          () => `kafka: publish to ${destination} not confirmed within ${timeoutMs} ms (broker.kafka.producer.timeoutMs)`,
        );
      } catch (error) {
        if (producerStateLost(error)) {
          this.open = false;
          this.connecting = undefined;
          await this.closeProducer().catch(() => undefined);
          const cause = this.toSluiceError(error, `publish to ${destination}`);
          throw new SluiceError(`${cause.message} (the producer's sequence state was lost; the next publish uses a new producer)`, {
            retriable: true,
            cause: error,
          });
        }
        throw this.toSluiceError(error, `publish to ${destination}`);
      }
    }
  }

  async close(): Promise<void> {
    const wasOpen = this.open;
    this.open = false;
    this.connecting = undefined;
    // Both clients' sends resolve only when acknowledged, so nothing is buffered to flush here.
    if (wasOpen) await this.closeProducer().catch(() => undefined);
  }

  private async connectNow(): Promise<void> {
    try {
      await checkBrokerCertificates(this.config);
      await within(
        this.openProducer(),
        this.config.startTimeoutMs,
        () => `kafka: producer could not connect within ${this.config.startTimeoutMs} ms`,
      );
    } catch (error) {
      await this.closeProducer().catch(() => undefined);
      throw this.toSluiceError(error, 'connect the producer');
    }
    this.open = true;
  }
}
