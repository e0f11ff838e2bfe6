import type { Span } from '@opentelemetry/api';
import type { Publisher, SourceEvent } from '../broker/contract.ts';
import { expandDestination, toDeadLetter, type DeadLetterSink } from './dead-letter.ts';

/**
 * Dead letters published to a broker destination: a topic of the same broker (`{source}.dlq` by
 * default) or of a separate broker. Resolves only once the broker confirmed the write.
 */
export class PublisherDeadLetter implements DeadLetterSink {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly publisher: Publisher,
    private readonly destination: string,
    private readonly brokerType: string,
  ) {}

  get description(): string {
    return `${this.brokerType} ${this.destination}`;
  }

  async write(event: SourceEvent, error: unknown, attempts: number, span?: Span): Promise<void> {
    this.connected ??= this.publisher.connect().catch((error: unknown) => {
      this.connected = undefined; // try again with the next dead letter
      throw error;
    });
    await this.connected;
    await this.publisher.publish(expandDestination(this.destination, event), [toDeadLetter(event, error, attempts, span)]);
  }

  async close(): Promise<void> {
    if (this.connected) await this.publisher.close();
  }
}
