import type { Message } from '@google-cloud/pubsub';
import type { Position, SourceEvent } from '../../src/broker/contract.ts';

/** What an event needs of the source that received it. */
export interface EventOwner {
  /** Subscription short name: the event's `source` (dead letters go to `<source>.dlq`). */
  readonly sourceName: string;
  acked(event: PubSubEvent): void;
  nacked(event: PubSubEvent, reason?: Error): void;
}

const PENDING = 0;
const SETTLED = 1;

/**
 * One delivery of a Pub/Sub message. Cheap on purpose (one object per message, fields read from
 * the client's Message on demand). ack/nack are idempotent and the first wins; the owner turns
 * them into message.ack() (or ackWithResponse) / message.nack(), and ignores them after close.
 */
export class PubSubEvent implements SourceEvent {
  readonly key: string | undefined;
  /**
   * Copies of this message Pub/Sub delivered again while Sluice held it (its lease ran out
   * somewhere on the way, so the server sent it anew, with a new ack id). They are settled with
   * it: one handler call, every ack id acked (or nacked).
   */
  copies: Message[] | undefined;
  private state = PENDING;

  constructor(
    readonly owner: EventOwner,
    readonly message: Message,
  ) {
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

  /** Pub/Sub's delivery attempt (reported on subscriptions with a dead-letter policy), else 1. */
  get attempt(): number {
    return this.message.deliveryAttempt || 1;
  }

  get settled(): boolean {
    return this.state !== PENDING;
  }

  ack(): void {
    if (this.state !== PENDING) return;
    this.state = SETTLED;
    this.owner.acked(this);
  }

  nack(reason?: Error): void {
    if (this.state !== PENDING) return;
    this.state = SETTLED;
    this.owner.nacked(this, reason);
  }
}
