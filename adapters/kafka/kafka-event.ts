import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import { BaseEvent, type EventOwner, NO_HEADERS, type PartitionProgress } from '../../src/source-kit/index.ts';

const EMPTY = Buffer.alloc(0);

/**
 * kafkajs hands timestamps over as decimal strings (from 64-bit integers). The core reads one per
 * event; a digit loop is about twice as fast as Number() on these strings, which adds up at
 * 100,000+ events a second.
 */
export function parseMillis(text: string): number {
  const length = text.length;
  if (length === 0 || length > 15) return Number(text);
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(text);
    value = value * 10 + digit;
  }
  return value;
}

/** A record's broker timestamp in milliseconds since the epoch. */
export function recordMillis(record: KafkaRecord): number {
  const timestamp = record.timestamp;
  return typeof timestamp === 'number' ? timestamp : parseMillis(timestamp);
}

/**
 * One Kafka record as a client hands it over: kafkajs' KafkaMessage as it is (timestamp as a
 * decimal string), a @platformatic/kafka message converted (offset kept as its bigint, text only
 * where a position is written; timestamp as a number: its bigint converts to a number directly).
 */
export interface KafkaRecord {
  readonly key?: Buffer | null;
  readonly value: Buffer | null;
  /** kafkajs: decimal text; @platformatic/kafka: its bigint, turned into text only where one is read. */
  readonly offset: string | bigint;
  readonly timestamp: string | number;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

/** What a {@link KafkaEvent} reports its settlement to (the source that delivered it). */
export type KafkaEventOwner = EventOwner<KafkaEvent>;

/** What the events of one partition delivered in one tracker generation share. */
export interface PartitionContext {
  readonly owner: KafkaEventOwner;
  readonly topic: string;
  readonly partition: number;
  /** `topic/partition`, the tracker's and the position's name for it. */
  readonly name: string;
  /** The partition's progress: ack completes the event's ticket in it. */
  readonly progress: PartitionProgress;
  /** The source's tracker generation at delivery; a rebalance starts a new one. */
  readonly generation: number;
}

/**
 * One delivery of a Kafka record. Built for every record on the hot path, so it is small (what
 * its partition's events share lives in one {@link PartitionContext}) and does little in its
 * constructor: the key, the headers, the id and the position are converted from the record's
 * Buffers and strings only when something reads them.
 */
export class KafkaEvent extends BaseEvent<KafkaEvent> implements SourceEvent {
  readonly payload: Buffer;
  private keyText: string | undefined | null = null;
  private headerText: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly context: PartitionContext,
    readonly message: KafkaRecord,
    readonly ticket: number,
    attempt: number,
  ) {
    super(attempt);
    this.payload = message.value ?? EMPTY;
  }

  protected get owner(): KafkaEventOwner {
    return this.context.owner;
  }

  get generation(): number {
    return this.context.generation;
  }

  get key(): string | undefined {
    if (this.keyText === null) this.keyText = this.message.key ? this.message.key.toString('utf8') : undefined;
    return this.keyText;
  }

  get headers(): Readonly<Record<string, string>> {
    if (this.headerText === undefined) {
      // Built on first read (tracing reads every event's); a record without headers shares one
      // frozen empty object instead of allocating its own.
      let headers: Record<string, string> | undefined;
      const raw = this.message.headers;
      if (raw) {
        for (const name of Object.keys(raw)) {
          const value = raw[name];
          if (value === undefined) continue;
          // A header repeated in one record arrives as an array; the first value is kept.
          const first = Array.isArray(value) ? value[0] : value;
          if (first === undefined) continue;
          headers ??= {};
          headers[name] = first.toString();
        }
      }
      this.headerText = headers ?? NO_HEADERS;
    }
    return this.headerText;
  }

  get timestamp(): number {
    return recordMillis(this.message);
  }

  get id(): string {
    return `${this.context.name}@${this.message.offset}`;
  }

  get source(): string {
    return this.context.topic;
  }

  get position(): Position {
    return { partition: this.context.name, offset: String(this.message.offset) };
  }

  /** The same record delivered again after a nack: same ticket, so no commit can pass it meanwhile. */
  redelivery(): KafkaEvent {
    return new KafkaEvent(this.context, this.message, this.ticket, this.attempt + 1);
  }
}
