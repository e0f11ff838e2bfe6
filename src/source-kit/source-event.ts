/**
 * What an event reports its settlement to: the source that delivered it (or, on the hot path, a
 * context its events share, see {@link BaseEvent.owner}).
 */
export interface EventOwner<E> {
  /** The event was processed: it may be committed (once every event before it is, too). */
  acked(event: E): void;
  /** The event failed and should be delivered again (the owner decides when, or drops it). */
  nacked(event: E, reason?: Error): void;
}

/**
 * The headers of every event that has none: one shared, frozen object. Besides the memory, an
 * event's headers are then one hot object to read rather than one of their own, allocated when
 * the record was (tracing reads every event's `traceparent`).
 */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The base of every adapter's event: a settled flag, an owner, and idempotent ack/nack (the
 * contract's rule: the first settlement wins, later ones are no-ops, so a wrapper that acks after
 * a handler already nacked cannot move a commit past a failed event).
 *
 * Built for every record on the hot path, so it holds one boolean and the attempt number; the
 * owner is a getter so that an adapter can keep it in a context shared by a batch's events (Kafka)
 * instead of a field per event.
 */
export abstract class BaseEvent<E extends BaseEvent<E>> {
  private settled = false;
  /** The core's (SourceEvent.traceSlot). */
  traceSlot: unknown = undefined;

  constructor(
    /** 1 for the first delivery; {@link redelivery} adds one. */
    readonly attempt: number,
  ) {}

  /** Where ack and nack go. */
  protected abstract get owner(): EventOwner<E>;

  /** The same record delivered again after a nack: attempt + 1, same tracker ticket. */
  abstract redelivery(): E;

  /** Whether ack or nack was called. */
  get isSettled(): boolean {
    return this.settled;
  }

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.acked(this as unknown as E);
  }

  nack(reason?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.nacked(this as unknown as E, reason);
  }
}
