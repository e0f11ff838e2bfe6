import type { SourceEvent } from '../broker/contract.ts';
import type { DeliveryLane } from './delivery-lane.ts';

export interface RedeliveryOptions<E> {
  /** How long a nacked event waits before it is delivered again (the adapter's `nackDelayMs`). */
  delayMs: number;
  /**
   * Asked when the delay is over and again when the batch's turn in the lane has come: false drops
   * the event (the source stopped, or a revoke reset the tracker since it was delivered; the
   * partition's next reader delivers it again from the committed position).
   */
  wanted(event: E): boolean;
  /**
   * Where ready events go. With a lane they are delivered through it, one batch of at most
   * `sink.maxBatch` after the other; without, {@link Redelivery.take} hands them to a read loop
   * that `ready` wakes.
   */
  lane?: DeliveryLane;
  ready?: () => void;
  /** A delivery through the lane failed (not expected: the sink does not reject). */
  failed?: (error: unknown) => void;
}

/**
 * nack → delay → redeliver. A nacked event comes back as `event.redelivery()`: attempt + 1 and
 * the same tracker ticket, so no commit passes it while it waits. Timers are unref'd: a pending
 * redelivery never keeps the process alive, and a closed source drops them (see `wanted`).
 */
export class Redelivery<E extends SourceEvent & { redelivery(): E }> {
  private queue: E[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: RedeliveryOptions<E>) {}

  /** Schedules the next delivery of a nacked event. */
  nacked(event: E): void {
    const again = event.redelivery();
    const timer = setTimeout(() => {
      if (!this.options.wanted(again)) return;
      this.queue.push(again);
      if (this.options.lane) this.flush(this.options.lane);
      else this.options.ready?.();
    }, this.options.delayMs);
    timer.unref();
  }

  /** Ready events, at most `max` (for a read loop that delivers them itself). */
  take(max: number): E[] {
    return this.queue.splice(0, Math.max(1, max));
  }

  get size(): number {
    return this.queue.length;
  }

  /** Drops the events ready and not yet delivered (a revoke; timers still running check `wanted`). */
  clear(): void {
    this.queue = [];
  }

  /** Resolves once the batches taken into the lane so far were delivered (or dropped). */
  async drained(): Promise<void> {
    await this.flushing;
  }

  private flush(lane: DeliveryLane): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length > 0) {
        const batch = this.take(lane.sink.maxBatch);
        await lane.run(() => batch.filter((event) => this.options.wanted(event)));
      }
    })()
      .catch((error: unknown) => this.options.failed?.(error))
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.flush(lane);
      });
  }
}
