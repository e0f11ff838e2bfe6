import type { EventSink, SourceEvent } from '../../src/broker/contract.ts';
import { Notifier } from '../../src/util/notifier.ts';

/**
 * Serialises deliveries of all shards into one sink: the contract forbids calling
 * `sink.deliver` again while one is pending. Deliveries go in arrival order (a promise chain is
 * FIFO), so no shard starves. A shard reader awaits its turn and the delivery, which is how a
 * full queue pauses every shard's reads.
 */
export class DeliveryGate {
  private tail: Promise<void> = Promise.resolve();
  /** Events handed to deliver() and not yet accepted by the sink: read, waiting in memory. */
  private waiting = 0;
  private readonly accepted = new Notifier();

  constructor(readonly sink: EventSink) {}

  /**
   * Resolves once fewer events wait at the gate than the queue holds, or when `signal` aborts.
   * A shard reader calls it before fetching, so that with many shards and a full queue the
   * records read ahead stay near one queue's worth instead of one batch per shard.
   */
  async room(signal: AbortSignal): Promise<void> {
    const limit = Math.max(this.sink.maxBatch, this.sink.capacity.events);
    while (this.waiting >= limit && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        signal.addEventListener('abort', done, { once: true });
        void this.accepted.wait().then(done);
      });
    }
  }

  /**
   * Delivers after every earlier delivery resolved. Resolves true once the sink accepted the
   * batch; false, without delivering, if `signal` aborted before its turn (or while waiting).
   */
  deliver(events: SourceEvent[], signal: AbortSignal): Promise<boolean> {
    this.waiting += events.length;
    const turn = this.tail
      .then(async () => {
        if (signal.aborted) return false;
        await this.sink.deliver(events);
        return true;
      })
      .finally(() => {
        this.waiting -= events.length;
        this.accepted.notify();
      });
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    );
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(
        (delivered) => {
          signal.removeEventListener('abort', onAbort);
          resolve(delivered);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
