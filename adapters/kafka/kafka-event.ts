import type { KafkaMessage } from 'kafkajs';
import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import type { PartitionProgress } from '../../src/core/offset-tracker.ts';
import { partitionKey } from './client.ts';

const EMPTY = Buffer.alloc(0);

/** What a {@link KafkaEvent} reports its settlement to (the source that delivered it). */
export interface KafkaEventOwner {
  acked(event: KafkaEvent): void;
  nacked(event: KafkaEvent, reason?: Error): void;
}

/**
 * One delivery of a Kafka record. Built for every record on the hot path, so it does little in
 * its constructor: the key, the headers, the id and the position are converted from kafkajs'
 * Buffers and strings only when something reads them.
 */
export class KafkaEvent implements SourceEvent {
  readonly payload: Buffer;
  private settled = false;
  private keyText: string | undefined | null = null;
  private headerText: Record<string, string> | undefined;

  constructor(
    private readonly owner: KafkaEventOwner,
    readonly topic: string,
    readonly partition: number,
    readonly message: KafkaMessage,
    /** The partition's progress and this record's ticket in it: ack completes the ticket. */
    readonly progress: PartitionProgress,
    readonly ticket: number,
    /** The source's tracker generation at delivery; a rebalance starts a new one. */
    readonly generation: number,
    readonly attempt: number,
  ) {
    this.payload = message.value ?? EMPTY;
  }

  get key(): string | undefined {
    if (this.keyText === null) this.keyText = this.message.key ? this.message.key.toString('utf8') : undefined;
    return this.keyText;
  }

  get headers(): Readonly<Record<string, string>> {
    if (!this.headerText) {
      const headers: Record<string, string> = {};
      const raw = this.message.headers;
      if (raw) {
        for (const name of Object.keys(raw)) {
          const value = raw[name];
          if (value === undefined) continue;
          // A header repeated in one record arrives as an array; the first value is kept.
          const first = Array.isArray(value) ? value[0] : value;
          if (first !== undefined) headers[name] = first.toString();
        }
      }
      this.headerText = headers;
    }
    return this.headerText;
  }

  get timestamp(): number {
    return Number(this.message.timestamp);
  }

  get id(): string {
    return `${this.topic}/${this.partition}@${this.message.offset}`;
  }

  get source(): string {
    return this.topic;
  }

  get position(): Position {
    return { partition: partitionKey(this.topic, this.partition), offset: this.message.offset };
  }

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.acked(this);
  }

  nack(reason?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.nacked(this, reason);
  }

  /** The same record delivered again after a nack: same ticket, so no commit can pass it meanwhile. */
  redelivery(): KafkaEvent {
    return new KafkaEvent(this.owner, this.topic, this.partition, this.message, this.progress, this.ticket, this.generation, this.attempt + 1);
  }
}
