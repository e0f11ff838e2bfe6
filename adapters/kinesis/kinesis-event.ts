import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import { BaseEvent, type EventOwner, type KeyOrder } from '../../src/source-kit/index.ts';

/**
 * The user records of one KPL-aggregated Kinesis record share one tracker ticket: the record is
 * complete, and its sequence number checkpointable, once all of them are acked.
 */
export class AggregateGroup {
  constructor(public remaining: number) {}
}

/**
 * What an event needs of the shard reading it (shard-consumer.ts implements it): where ack and
 * nack go, and the names its id and position are built from. An interface, so that this file and
 * the consumer do not import each other.
 */
export interface ShardOwner extends EventOwner<KinesisEvent> {
  readonly shardId: string;
  readonly stream: string;
  /**
   * Tells one reading of a shard from the next one of the same shard (a lease lost and taken
   * back): their tickets start anew, so a nack holds back only its own reading's events.
   */
  readonly generation: number;
  /** false once the lease was lost or reading stopped: its events are not delivered again. */
  readonly reading: boolean;
}

/**
 * One delivery of a Kinesis (user) record. Cheap on purpose: id and position are built only
 * when read. A nacked event is delivered again as a copy with the same ticket (and group), so
 * the checkpoint cannot pass it meanwhile.
 */
export class KinesisEvent extends BaseEvent<KinesisEvent> implements SourceEvent {
  constructor(
    readonly consumer: ShardOwner,
    readonly sequenceNumber: string,
    /** Position inside a KPL aggregated record; undefined for a plain record. */
    readonly subSequenceNumber: number | undefined,
    readonly key: string | undefined,
    readonly payload: Buffer,
    readonly headers: Readonly<Record<string, string>>,
    readonly timestamp: number,
    readonly ticket: number,
    readonly group: AggregateGroup | undefined,
    /**
     * The event's place in its shard reading's order (a counter of the events built). Not the
     * ticket: the user records of a KPL aggregate share one ticket, and keeping a key's order
     * (Redelivery's keyOrder) needs a strictly increasing sequence.
     */
    readonly order: number,
    attempt: number,
  ) {
    super(attempt);
  }

  protected get owner(): ShardOwner {
    return this.consumer;
  }

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

  /** The next delivery of the same record. */
  redelivery(): KinesisEvent {
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
      this.order,
      this.attempt + 1,
    );
  }
}

/**
 * What keeps a nacked record ahead of the later records of its key (Redelivery's keyOrder,
 * features.nackKeepsKeyOrder): the scope is the shard's reading (its generation: a shard read
 * again starts its tickets anew) plus the partition key, the order a shard promises; the
 * sequence is the event's {@link KinesisEvent.order}. The generation is unique in the process,
 * so another source's events sharing the sink never match a scope of ours.
 */
export const SHARD_KEY_ORDER: KeyOrder<KinesisEvent> = {
  own: (event) => (event instanceof KinesisEvent ? event : undefined),
  scope: ({ key, consumer }) => (key === undefined ? undefined : `${consumer.generation}\u0000${key}`),
  sequence: (event) => event.order,
};
