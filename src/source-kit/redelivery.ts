import type { EventSink, SourceEvent } from '../broker/contract.ts';
import type { DeliveryLane } from './delivery-lane.ts';
import { type KeyOrder, ScopeHold } from './key-hold.ts';

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
  /**
   * Keeps a nacked event ahead of the later events of its key (see {@link Redelivery}). Without
   * it, a nacked event comes back after the delay, behind whatever of its key was delivered since.
   */
  keyOrder?: KeyOrder<E>;
  /** The sink to take events back from (`sink.discard`) with `keyOrder`; default: the lane's. */
  sink?: EventSink;
  /** A delivery through the lane failed (not expected: the sink does not reject). */
  failed?: (error: unknown) => void;
}

interface Ready<E> {
  readonly event: E;
  /** The scope it was held in, which stays held until the event is taken for delivery. */
  readonly hold: ScopeHold<E> | undefined;
}

/**
 * nack → delay → redeliver. A nacked event comes back as `event.redelivery()`: attempt + 1 and
 * the same tracker ticket, so no commit passes it while it waits. Timers are unref'd: a pending
 * redelivery never keeps the process alive, and a closed source drops them (see `wanted`).
 *
 * With `keyOrder`, a nack also keeps the event's key in order (features.nackKeepsKeyOrder): the
 * later events of its scope (partition + key) that no worker has started are taken back from the
 * core (`sink.discard`) and from the events ready here, and the scope's events the source reads
 * meanwhile are held too (the source passes what it reads through {@link admit}). When the delay
 * is over they are delivered after the nacked one, in their original order, as they are: not
 * settled, same attempt, same ticket (so the offset tracker still commits only what was acked).
 * The scope stays held until the last of them is taken for delivery. A further nack in the scope
 * (the redelivered event fails again, or without `pool.orderByKey` a later one) takes back again
 * behind itself.
 */
export class Redelivery<E extends SourceEvent & { redelivery(): E }> {
  private queue: Ready<E>[] = [];
  private readonly holds = new Map<string, ScopeHold<E>>();
  /** Bumped by clear(): timers of an older round find their scope gone and do nothing. */
  private round = 0;
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: RedeliveryOptions<E>) {}

  /** Schedules the next delivery of a nacked event (and, with `keyOrder`, holds its key's later events). */
  nacked(event: E): void {
    const again = event.redelivery();
    const order = this.options.keyOrder;
    const scope = order?.scope(again);
    if (order === undefined || scope === undefined) {
      this.after(() => {
        if (!this.options.wanted(again)) return;
        this.queue.push({ event: again, hold: undefined });
        this.wake();
      });
      return;
    }
    const hold = this.holds.get(scope) ?? new ScopeHold<E>(scope);
    this.holds.set(scope, hold);
    const sequence = order.sequence(again);
    const entry = hold.add(again, sequence, false);
    this.takeBack(order, hold, sequence);
    const round = this.round;
    this.after(() => {
      if (round !== this.round) return;
      entry.due = true;
      if (!this.options.wanted(again)) hold.remove(entry);
      this.release(hold);
    });
  }

  /**
   * What of `events` (just read, about to be delivered) to deliver now: those of a held scope
   * are kept here and delivered after the nacked event they would overtake. Returns `events`
   * itself while nothing is held (the hot path).
   */
  admit<T extends SourceEvent>(events: T[]): T[] {
    const order = this.options.keyOrder;
    if (this.holds.size === 0 || order === undefined) return events;
    let now: T[] | undefined;
    const touched = new Set<ScopeHold<E>>();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const own = order.own(event);
      const scope = own === undefined ? undefined : order.scope(own);
      const hold = scope === undefined ? undefined : this.holds.get(scope);
      if (hold === undefined) {
        now?.push(event);
        continue;
      }
      now ??= events.slice(0, i);
      hold.add(own!, order.sequence(own!), true);
      touched.add(hold);
    }
    for (const hold of touched) this.release(hold);
    return now ?? events;
  }

  /** Ready events, at most `max` (for a read loop that delivers them itself). */
  take(max: number): E[] {
    const taken = this.queue.splice(0, Math.max(1, max));
    for (const { hold } of taken) {
      if (hold === undefined) continue;
      hold.released--;
      this.forgetIfIdle(hold);
    }
    return taken.map((ready) => ready.event);
  }

  /** Events ready for delivery. */
  get size(): number {
    return this.queue.length;
  }

  /** Events held behind a nacked event of their key (not counting those ready). */
  get held(): number {
    let count = 0;
    for (const hold of this.holds.values()) count += hold.size;
    return count;
  }

  /**
   * Drops the events ready and held, not yet delivered (a revoke: the partition's next reader
   * delivers them again from the committed position). Timers still running check `wanted`.
   */
  clear(): void {
    this.queue = [];
    this.holds.clear();
    this.round++;
  }

  /** Resolves once the batches taken into the lane so far were delivered (or dropped). */
  async drained(): Promise<void> {
    await this.flushing;
  }

  private after(run: () => void): void {
    setTimeout(run, this.options.delayMs).unref();
  }

  /**
   * Takes the scope's events after `sequence` back, from the sink (not started by a worker) and
   * from the ready queue (not yet delivered), into the hold behind the nacked event.
   */
  private takeBack(order: KeyOrder<E>, hold: ScopeHold<E>, sequence: number): void {
    if (hold.released > 0) {
      this.queue = this.queue.filter((ready) => {
        if (ready.hold !== hold) return true;
        const later = order.sequence(ready.event);
        if (later <= sequence) return true;
        hold.add(ready.event, later, true);
        hold.released--;
        return false;
      });
    }
    const sink = this.options.sink ?? this.options.lane?.sink;
    if (!sink) return;
    const later = (event: SourceEvent): E | undefined => {
      const own = order.own(event);
      return own !== undefined && order.scope(own) === hold.scope && order.sequence(own) > sequence ? own : undefined;
    };
    // The sink returns them in no promised order (queued, then set aside): add() sorts them.
    for (const event of sink.discard((event) => later(event) !== undefined)) {
      const own = later(event)!;
      hold.add(own, order.sequence(own), true);
    }
  }

  /** Moves what no nacked event waits in front of to the ready queue, and wakes the delivery. */
  private release(hold: ScopeHold<E>): void {
    const events = hold.releasable();
    for (const event of events) this.queue.push({ event, hold });
    hold.released += events.length;
    this.forgetIfIdle(hold);
    if (events.length > 0) this.wake();
  }

  private forgetIfIdle(hold: ScopeHold<E>): void {
    if (hold.idle && this.holds.get(hold.scope) === hold) this.holds.delete(hold.scope);
  }

  private wake(): void {
    if (this.options.lane) this.flush(this.options.lane);
    else this.options.ready?.();
  }

  private flush(lane: DeliveryLane): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length > 0) {
        // Taken at the turn, not before: until then the scope stays held, so a batch the source
        // read meanwhile (built at an earlier turn) still queues behind these.
        await lane.run(() => this.take(lane.sink.maxBatch).filter((event) => this.options.wanted(event)));
      }
    })()
      .catch((error: unknown) => this.options.failed?.(error))
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.flush(lane);
      });
  }
}
