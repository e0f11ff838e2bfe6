import type { OutgoingEvent } from '../broker/contract.ts';
import { isRetriable, SluiceError } from '../errors.ts';

export interface BatchOptions {
  /** Events per publish() at most: a batch this full is sent at once. */
  readonly maxEvents: number;
  /** How long the first event of a batch waits for others before the batch is sent. */
  readonly lingerMs: number;
  /**
   * How many calls can be outstanding at once (the pool's size). When that many wait here
   * (in open batches or in publishes under way), no other can come before one of them resolves:
   * the open batches are sent at once instead of lingering for nobody.
   */
  readonly concurrency?: number;
}

type Publish = (destination: string, events: readonly OutgoingEvent[]) => Promise<void>;

interface OpenBatch {
  readonly events: OutgoingEvent[];
  readonly callers: { resolve: () => void; reject: (error: unknown) => void }[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * Coalesces single publishes into batches, one open batch per destination. Each caller's promise
 * settles with its batch: resolved once the broker confirmed the whole batch, rejected with the
 * publish error (which carries `retriable`) otherwise, so a handler awaiting it acks, retries or
 * dead-letters its source event exactly as if it had published alone (a batch refused for good
 * is split to find out whose event it was: see settle()). A batch keeps the order in
 * which its events were added, and the publishers keep the order of one key within a batch; several
 * batches of one destination may be in flight at once, so order across batches is only what the
 * callers impose (the pool's `orderByKey` lets one event per key in at a time).
 */
export class PublishBatcher {
  private readonly open = new Map<string, OpenBatch>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Events in open batches plus events of publishes under way. */
  private outstanding = 0;
  private closed = false;

  constructor(
    private readonly publishTo: Publish,
    private readonly options: BatchOptions,
  ) {}

  /** Publishes `event` to `destination` with the next batch; settles when that batch does. */
  add(destination: string, event: OutgoingEvent): Promise<void> {
    if (this.closed) return Promise.reject(new SluiceError('the forwarder is closed', { retriable: true }));
    let batch = this.open.get(destination);
    if (!batch) {
      batch = { events: [], callers: [], timer: undefined };
      this.open.set(destination, batch);
      batch.timer = setTimeout(() => this.send(destination), this.options.lingerMs);
    }
    const settled = new Promise<void>((resolve, reject) => batch.callers.push({ resolve, reject }));
    batch.events.push(event);
    this.outstanding++;
    const { concurrency, maxEvents } = this.options;
    if (concurrency !== undefined && this.outstanding >= concurrency) this.sendAll();
    else if (batch.events.length >= maxEvents) this.send(destination);
    return settled;
  }

  /** Sends what is open and waits for every publish under way. Later add() calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.sendAll();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private sendAll(): void {
    for (const destination of [...this.open.keys()]) this.send(destination);
  }

  private send(destination: string): void {
    const batch = this.open.get(destination);
    if (!batch) return;
    this.open.delete(destination);
    clearTimeout(batch.timer);
    const done: Promise<void> = this.settle(destination, batch).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /**
   * Publishes a batch and settles its callers. A batch refused for good (not retriable: a record
   * too large, a value the broker refuses) is published again one event at a time, in order, so
   * that only the event at fault fails (and is dead-lettered), not the others that shared its batch.
   * A retriable failure fails every caller: each is tried again (batched anew) by the retry wrapper.
   */
  private async settle(destination: string, batch: OpenBatch): Promise<void> {
    const { events, callers } = batch;
    let failure: { error: unknown } | undefined;
    try {
      await this.publish(destination, events);
    } catch (error) {
      failure = { error };
    }
    if (failure && events.length > 1 && !isRetriable(failure.error)) {
      const alone: ({ error: unknown } | undefined)[] = [];
      for (const event of events) {
        alone.push(
          await this.publish(destination, [event]).then(
            () => undefined,
            (error: unknown) => ({ error }),
          ),
        );
      }
      this.outstanding -= events.length;
      for (const [i, result] of alone.entries()) {
        if (result) callers[i]!.reject(result.error);
        else callers[i]!.resolve();
      }
      return;
    }
    // `outstanding` drops before the callers hear back: their workers may add the next events at once.
    this.outstanding -= events.length;
    for (const caller of callers) {
      if (failure) caller.reject(failure.error);
      else caller.resolve();
    }
  }

  /** A publisher that throws synchronously rejects its batch like one that rejects. */
  private async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    await this.publishTo(destination, events);
  }
}
