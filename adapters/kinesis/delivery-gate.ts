import type { EventSink, SourceEvent } from '../../src/broker/contract.ts';

/**
 * Serialises deliveries of all shards into one sink: the contract forbids calling
 * `sink.deliver` again while one is pending. Deliveries go in arrival order (a promise chain is
 * FIFO), so no shard starves. A shard reader awaits its turn and the delivery, which is how a
 * full queue pauses every shard's reads.
 */
export class DeliveryGate {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly sink: EventSink) {}

  /**
   * Delivers after every earlier delivery resolved. Resolves true once the sink accepted the
   * batch; false, without delivering, if `signal` aborted before its turn (or while waiting).
   */
  deliver(events: SourceEvent[], signal: AbortSignal): Promise<boolean> {
    const turn = this.tail.then(async () => {
      if (signal.aborted) return false;
      await this.sink.deliver(events);
      return true;
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
