import type { Message } from '@google-cloud/pubsub';
import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import { BaseEvent, type EventOwner } from '../../src/source-kit/index.ts';

/** What an event needs of the source that received it. */
export interface PubSubEventOwner extends EventOwner<PubSubEvent> {
  /** Subscription short name: the event's `source` (dead letters go to `<source>.dlq`). */
  readonly sourceName: string;
}

/**
 * One delivery of a Pub/Sub message. Cheap on purpose (one object per message, fields read from
 * the client's Message on demand). The kit's {@link BaseEvent} makes ack/nack idempotent (the
 * first wins); the owner turns them into message.ack() (or ackWithResponse) / message.nack(), and
 * ignores them after close.
 */
export class PubSubEvent extends BaseEvent<PubSubEvent> implements SourceEvent {
  readonly key: string | undefined;
  /**
   * Copies of this message Pub/Sub delivered again while Sluice held it (its lease ran out
   * somewhere on the way, so the server sent it anew, with a new ack id). They are settled with
   * it: one handler call, every ack id acked (or nacked).
   */
  copies: Message[] | undefined;

  constructor(
    readonly owner: PubSubEventOwner,
    readonly message: Message,
    /** Pub/Sub's delivery attempt (reported on subscriptions with a dead-letter policy), else 1. */
    attempt = message.deliveryAttempt || 1,
  ) {
    super(attempt);
    this.key = message.orderingKey || undefined;
  }

  get id(): string {
    return this.message.id;
  }

  get payload(): Buffer {
    return this.message.data;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.message.attributes;
  }

  /** Publish time, as the broker recorded it. */
  get timestamp(): number {
    return this.message.publishTime.getTime();
  }

  get source(): string {
    return this.owner.sourceName;
  }

  /** The subscription and the ack id: what identifies this delivery to Pub/Sub. */
  get position(): Position {
    return { partition: this.owner.sourceName, offset: this.message.ackId };
  }

  /**
   * The kit's in-process redelivery (attempt + 1). Not used by the Pub/Sub source: a nack goes to
   * the broker (message.nack()), which delivers the message again as a new Message.
   */
  redelivery(): PubSubEvent {
    return new PubSubEvent(this.owner, this.message, this.attempt + 1);
  }
}
