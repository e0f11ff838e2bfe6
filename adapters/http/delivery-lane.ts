import type { EventSink, SourceEvent } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';
import type { HttpEvent, RequestBatch } from './http-event.ts';

/** How handing a request's events to the queue ended. */
export type LaneResult = 'queued' | 'timeout' | 'stopped';

interface Waiting {
  readonly batch: RequestBatch;
  readonly resolve: (result: LaneResult) => void;
  timer: NodeJS.Timeout | undefined;
  /** Set while this request's events are in the sink's pending delivery. */
  delivering: boolean;
}

/**
 * Serialises concurrent requests into the sink, one delivery at a time (the contract's awaitable
 * push: a source does not deliver again before the previous delivery resolved), in the order
 * their bodies were complete.
 *
 * A request's events go to the sink as one batch, which the queue admits whole; so a request is
 * either queued entirely or not at all. A request not queued within `maxWaitMs` (waiting here
 * behind others, or in the sink's pending delivery for want of room) is taken back, from here or
 * with {@link EventSink.discard}, and reported as a timeout: none of its events was started.
 * Nothing is buffered here beyond the requests the server admits (maxConcurrentRequests).
 */
export class DeliveryLane {
  private readonly waiting: Waiting[] = [];
  private running = false;
  private stopped = false;

  constructor(
    private readonly sink: EventSink,
    private readonly maxWaitMs: number,
  ) {}

  /** Events waiting here or in the pending delivery: requests not yet queued. */
  get depth(): number {
    let events = 0;
    for (const entry of this.waiting) events += entry.batch.events.length;
    return events;
  }

  deliver(batch: RequestBatch): Promise<LaneResult> {
    if (this.stopped) return Promise.resolve('stopped');
    return new Promise((resolve) => {
      const entry: Waiting = { batch, resolve, timer: undefined, delivering: false };
      entry.timer = setTimeout(() => this.giveUp(entry, 'timeout'), this.maxWaitMs);
      entry.timer.unref();
      this.waiting.push(entry);
      if (!this.running) void this.run();
    });
  }

  /** Every request not yet queued gets 'stopped', and none is taken any more. */
  stop(): void {
    this.stopped = true;
    for (const entry of [...this.waiting]) this.giveUp(entry, 'stopped');
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const entry = this.waiting[0]!;
        entry.delivering = true;
        await this.sink.deliver(entry.batch.events as SourceEvent[]);
        entry.delivering = false;
        if (this.waiting[0] === entry) {
          this.waiting.shift();
          clearTimeout(entry.timer);
          entry.resolve('queued');
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Takes the request back. In the pending delivery, its events are discarded from the sink: the
   * queue admits a batch whole, so either all of them come back (not queued) or none (the batch
   * was admitted in the same tick: it counts as queued).
   */
  private giveUp(entry: Waiting, result: LaneResult): void {
    const at = this.waiting.indexOf(entry);
    if (at === -1) return;
    if (entry.delivering) {
      const batch = entry.batch;
      const back = this.sink.discard((event) => (event as HttpEvent).of?.(batch) === true);
      if (back.length === 0) return; // admitted already: run() reports it queued
      if (back.length < batch.events.length) {
        // Admitted, and a worker started some before run() saw it (a stop() between the two):
        // the request stays queued, and what came back is reported not done (503 with `failed`).
        for (const event of back) event.nack(new SluiceError('sluice is shutting down', { retriable: true }));
        return;
      }
    }
    this.waiting.splice(at, 1);
    clearTimeout(entry.timer);
    entry.resolve(result);
  }
}
