import type { SourceEvent } from '../../src/broker/contract.ts';
import type { DeliveryLane } from '../../src/source-kit/index.ts';
import type { PubSubEvent } from './pubsub-event.ts';

/**
 * Awaitable push on top of the kit's {@link DeliveryLane}: the client dispenses messages whenever
 * they come (there is no fetch to pause), so they wait here, in arrival order, and go to the core
 * in batches of at most `sink.maxBatch`, one pending `sink.deliver` at a time (the lane's promise;
 * the sink's await is the backpressure, the client's flow control bounds what waits here).
 *
 * A batch is taken from the ready queue only when its turn in the lane has come, so until then
 * {@link takeBack} (the ordering gate's take-back of a nacked key) still finds its events here.
 */
export class ReadyLane {
  /** Events ready for the core, in arrival order: ready[head..]. */
  private ready: PubSubEvent[] = [];
  private head = 0;
  private flushing = false;
  private scheduled = false;
  private readonly flush = () => void this.deliverReady();

  constructor(
    private readonly lane: DeliveryLane,
    /** stop() was called: nothing more is delivered (what waits here stays leased; close nacks it). */
    private readonly stopped: () => boolean,
    /** A delivery failed (not expected: the sink does not reject). */
    private readonly failed: (error: unknown) => void,
  ) {}

  push(event: PubSubEvent): void {
    this.ready.push(event);
    if (!this.flushing && !this.scheduled && !this.stopped()) {
      // The client dispenses each message of a pull response in its own nextTick: wait for the
      // whole response before delivering, so it becomes one batch.
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Removes and returns the waiting events that `match` (in arrival order). */
  takeBack(match: (event: PubSubEvent) => boolean): PubSubEvent[] {
    const taken: PubSubEvent[] = [];
    if (this.head === this.ready.length) return taken;
    const kept: PubSubEvent[] = [];
    for (let i = this.head; i < this.ready.length; i++) {
      const event = this.ready[i]!;
      if (match(event)) taken.push(event);
      else kept.push(event);
    }
    this.ready = kept;
    this.head = 0;
    return taken;
  }

  /** Forgets what waits (close: the client nacks what it holds). */
  clear(): void {
    this.ready = [];
    this.head = 0;
  }

  /** Delivers ready events in batches through the lane until none is left (or the source stopped). */
  private async deliverReady(): Promise<void> {
    this.scheduled = false;
    if (this.flushing || this.stopped()) return;
    this.flushing = true;
    const lane = this.lane;
    try {
      while (!this.stopped() && this.head < this.ready.length) {
        await lane.run(() => (this.stopped() ? undefined : this.take(lane.sink.maxBatch)));
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.flushing = false;
    }
  }

  private take(max: number): SourceEvent[] {
    const from = this.head;
    const to = Math.min(this.ready.length, from + max);
    const batch = this.ready.slice(from, to);
    if (to === this.ready.length) {
      this.ready = [];
      this.head = 0;
    } else {
      this.head = to;
      // Drop the delivered prefix now and then, so a long-lived backlog does not keep it alive.
      if (to > 4096 && to * 2 > this.ready.length) {
        this.ready = this.ready.slice(to);
        this.head = 0;
      }
    }
    return batch;
  }
}
