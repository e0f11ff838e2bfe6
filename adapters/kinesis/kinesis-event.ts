import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import type { ShardConsumer } from './shard-consumer.ts';

/**
 * The user records of one KPL-aggregated Kinesis record share one tracker ticket: the record is
 * complete, and its sequence number checkpointable, once all of them are acked.
 */
export class AggregateGroup {
  constructor(public remaining: number) {}
}

export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One delivery of a Kinesis (user) record. Cheap on purpose: id and position are built only
 * when read. A nacked event is delivered again as a copy with the same ticket (and group), so
 * the checkpoint cannot pass it meanwhile.
 */
export class KinesisEvent implements SourceEvent {
  private settled = false;

  constructor(
    readonly consumer: ShardConsumer,
    readonly sequenceNumber: string,
    /** Position inside a KPL aggregated record; undefined for a plain record. */
    readonly subSequenceNumber: number | undefined,
    readonly key: string | undefined,
    readonly payload: Buffer,
    readonly headers: Readonly<Record<string, string>>,
    readonly timestamp: number,
    readonly ticket: number,
    readonly group: AggregateGroup | undefined,
    readonly attempt: number,
  ) {}

  get id(): string {
    const base = `${this.consumer.shardId}/${this.sequenceNumber}`;
    return this.subSequenceNumber === undefined ? base : `${base}/${this.subSequenceNumber}`;
  }

  get source(): string {
    return this.consumer.stream;
  }

  get position(): Position {
    return { partition: this.consumer.shardId, offset: this.sequenceNumber };
  }

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.completed(this);
  }

  nack(): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.nacked(this);
  }

  /** The next delivery of the same record. */
  again(): KinesisEvent {
    return new KinesisEvent(
      this.consumer,
      this.sequenceNumber,
      this.subSequenceNumber,
      this.key,
      this.payload,
      this.headers,
      this.timestamp,
      this.ticket,
      this.group,
      this.attempt + 1,
    );
  }
}
