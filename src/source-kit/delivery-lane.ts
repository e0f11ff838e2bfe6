import type { EventSink, SourceEvent } from '../broker/contract.ts';
import { Notifier } from '../util/notifier.ts';

/**
 * The one lane into the sink. The contract allows one pending `sink.deliver` at a time, but an
 * adapter has several producers of deliveries: partitions or shards read concurrently, nacked
 * events coming back from timers. Every delivery takes its turn here, in arrival order (a promise
 * chain is FIFO, so no partition starves), and a producer that awaits its delivery is paused
 * while the sink is full: that await is the backpressure.
 *
 * {@link run} builds the events only once the turn has come, so a batch no longer wanted by then
 * (its partition revoked, the source stopped) is never tracked. {@link deliver} counts events
 * waiting at the lane, which {@link room} reads so that many readers fetching ahead stay near one
 * queue's worth of records in memory.
 */
export class DeliveryLane {
  private tail: Promise<void> = Promise.resolve();
  /** Events handed to deliver() and not yet accepted by the sink: read, waiting in memory. */
  private waiting = 0;
  private readonly accepted = new Notifier();

  constructor(readonly sink: EventSink) {}

  /**
   * Waits for the turn, builds and delivers. Resolves false when `build` returned undefined (no
   * longer wanted) or when `signal` aborted before the turn (then at once); true once the sink
   * accepted the events, or at once when `build` returned none to deliver now (all held back, see
   * Redelivery.admit: the batch was taken care of, the reader goes on).
   */
  run(build: () => SourceEvent[] | undefined, signal?: AbortSignal): Promise<boolean> {
    const turn = this.turn(build, signal);
    return signal ? abortable(turn, signal) : turn;
  }

  /**
   * Delivers `events` (already built) in turn; counted for {@link room} while they wait. With
   * `admit`, what is delivered is what it returns when the turn has come (Redelivery.admit: a key
   * held since the events were read still keeps its order); [] resolves true, as with {@link run}.
   */
  deliver<T extends SourceEvent>(events: T[], signal?: AbortSignal, admit?: (events: T[]) => T[]): Promise<boolean> {
    this.waiting += events.length;
    const turn = this.turn(admit ? () => admit(events) : () => events, signal).finally(() => {
      this.waiting -= events.length;
      this.accepted.notify();
    });
    return signal ? abortable(turn, signal) : turn;
  }

  private turn(build: () => SourceEvent[] | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    return previous.then(async () => {
      try {
        if (signal?.aborted) return false;
        const events = build();
        if (!events) return false;
        if (events.length > 0) await this.sink.deliver(events);
        return true;
      } finally {
        release();
      }
    });
  }

  /**
   * Resolves once fewer events wait at the lane than the queue holds, or when `signal` aborts.
   * A reader calls it before fetching.
   */
  async room(signal: AbortSignal): Promise<void> {
    const limit = Math.max(this.sink.maxBatch, this.sink.capacity.events);
    while (this.waiting >= limit && !signal.aborted) {
      await abortable(this.accepted.wait(), signal);
    }
  }

  /** Resolves once every delivery queued so far has finished. */
  drained(): Promise<void> {
    return this.tail;
  }
}

/** `turn`'s outcome, or false as soon as `signal` aborts (the turn itself still runs). */
function abortable<T>(turn: Promise<T>, signal: AbortSignal): Promise<T | false> {
  if (signal.aborted) {
    turn.catch(() => undefined);
    return Promise.resolve(false);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    turn.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
