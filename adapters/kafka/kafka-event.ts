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

/**
 * One Kafka record as kafkajs hands it over (its KafkaMessage: offset and timestamp as decimal
 * strings), read by {@link KafkaEvent.of}.
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
 * One delivery of a Kafka record: the only object Sluice keeps per record. A binding makes it as
 * the record arrives ({@link KafkaEvent.of} from a kafkajs message; @platformatic/kafka's stream
 * listener straight from the client's message, with no record object in between), keeping the
 * record's own fields, so the client's message can die at once; {@link bind} gives it its
 * partition context and tracker ticket when its delivery's turn has come (records that are
 * skipped or no longer wanted are never bound, never tracked). Small (what its partition's events
 * share lives in one {@link PartitionContext}), and its constructor does little: the key, the
 * headers, the id and the position are converted from the record's Buffers and strings only when
 * something reads them.
 */
export class KafkaEvent extends BaseEvent<KafkaEvent> implements SourceEvent {
  /** Set by {@link bind}, before the event is delivered. */
  context!: PartitionContext;
  /** The tracker ticket, set by {@link bind}. */
  ticket = -1;
  readonly payload: Buffer;
  private keyText: string | undefined | null = null;
  private headerText: Readonly<Record<string, string>> | undefined;

  constructor(
    /** The record's key as the client handed it over. */
    readonly rawKey: Buffer | null | undefined,
    value: Buffer | null | undefined,
    /** kafkajs: decimal text; @platformatic/kafka: its bigint, turned into text only where one is read. */
    readonly offset: string | bigint,
    /** kafkajs: decimal text (parsed when read); @platformatic/kafka: a number. */
    readonly rawTimestamp: string | number,
    readonly rawHeaders: KafkaRecord['headers'],
    attempt = 1,
  ) {
    super(attempt);
    this.payload = value ?? EMPTY;
  }

  /** An unbound event of a kafkajs message (or any record of that shape). */
  static of(record: KafkaRecord): KafkaEvent {
    return new KafkaEvent(record.key, record.value, record.offset, record.timestamp, record.headers);
  }

  /** Ties the event to its partition's context and tracker ticket, at delivery. */
  bind(context: PartitionContext, ticket: number): void {
    this.context = context;
    this.ticket = ticket;
  }

  protected get owner(): KafkaEventOwner {
    return this.context.owner;
  }

  get generation(): number {
    return this.context.generation;
  }

  get key(): string | undefined {
    if (this.keyText === null) this.keyText = this.rawKey ? this.rawKey.toString('utf8') : undefined;
    return this.keyText;
  }

  get headers(): Readonly<Record<string, string>> {
    if (this.headerText === undefined) {
      // Built on first read (tracing reads every event's); a record without headers shares one
      // frozen empty object instead of allocating its own.
      let headers: Record<string, string> | undefined;
      const raw = this.rawHeaders;
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
    const timestamp = this.rawTimestamp;
    return typeof timestamp === 'number' ? timestamp : parseMillis(timestamp);
  }

  get id(): string {
    return `${this.context.name}@${this.offset}`;
  }

  get source(): string {
    return this.context.topic;
  }

  get position(): Position {
    return { partition: this.context.name, offset: String(this.offset) };
  }

  /** The same record delivered again after a nack: same ticket, so no commit can pass it meanwhile. */
  redelivery(): KafkaEvent {
    const again = new KafkaEvent(this.rawKey, this.payload, this.offset, this.rawTimestamp, this.rawHeaders, this.attempt + 1);
    again.bind(this.context, this.ticket);
    return again;
  }
}
