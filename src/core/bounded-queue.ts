import type { SourceEvent } from '../broker/contract.ts';

/**
 * What happens when the queue is full:
 *  - `block` (default): the source waits; nothing is dropped, the broker keeps the backlog.
 *  - `drop-newest`: the incoming events are dropped (acked and counted).
 *  - `drop-oldest`: the oldest waiting events are dropped to make room (acked and counted).
 */
export type OverflowPolicy = 'block' | 'drop-newest' | 'drop-oldest';

export interface BoundedQueueOptions {
  maxEvents: number;
  maxBytes: number;
  policy: OverflowPolicy;
  /** Called for every event a lossy policy drops; the pipeline acks and counts it. */
  onDrop: (event: SourceEvent) => void;
}

interface PendingOffer {
  events: SourceEvent[];
  bytes: number;
  resolve: () => void;
}

/**
 * The queue between the sources and the worker pool, bounded in events *and* bytes.
 *
 * Capacity is held from the moment an event is accepted until a worker *starts* it
 * ({@link release}), so events a worker set aside (per-key ordering) still count. With the
 * `block` policy a batch that does not fit waits in {@link offer}: the source's await on it is
 * what pauses the source. A batch is admitted whole; a batch larger than the whole queue is
 * admitted when the queue is empty so that it cannot wait forever.
 */
export class BoundedQueue {
  /**
   * The admitted batches, oldest first, each as the source delivered it: one entry per batch, not
   * one per event, so admitting a batch of thousands of events costs one push instead of
   * thousands (and no periodic copy of a flat array of every waiting event). The sink does not
   * copy or change a delivered array (the source may still read it); a batch is let go once its
   * last event was taken, so its first events stay referenced until then (at most maxBatch
   * events, whose payloads usually share the batch's fetch buffers anyway).
   */
  private batches: (SourceEvent[] | undefined)[] = [];
  /** Index in {@link batches} of the batch events are taken from. */
  private batchHead = 0;
  /** Index in that batch of the next event to take. */
  private next = 0;
  /** Events admitted and not taken. */
  private readyCount = 0;
  private heldEvents = 0;
  private heldBytes = 0;
  private readonly pending: PendingOffer[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;
  /** Total events ever admitted, for metrics. */
  accepted = 0;
  /** Total events dropped by a lossy policy. */
  dropped = 0;

  constructor(private readonly options: BoundedQueueOptions) {}

  get capacity(): { events: number; bytes: number } {
    return { events: this.options.maxEvents, bytes: this.options.maxBytes };
  }

  /** Events accepted and not yet started. */
  get depth(): number {
    return this.heldEvents;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Events ready to be taken (accepted, not taken by a worker). */
  get ready(): number {
    return this.readyCount;
  }

  /** True while a source waits for room: the source is paused. */
  get blocked(): boolean {
    return this.pending.length > 0;
  }

  /** Accepts a batch in order. Resolves when it is in the queue (or dropped by a lossy policy). */
  offer(events: SourceEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    let bytes = 0;
    for (let i = 0; i < events.length; i++) bytes += events[i]!.payload.length;
    if (this.pending.length === 0 && this.fits(events.length, bytes)) {
      this.admit(events, bytes);
      return Promise.resolve();
    }
    if (this.options.policy === 'drop-newest') {
      this.admitDroppingNewest(events);
      return Promise.resolve();
    }
    if (this.options.policy === 'drop-oldest') {
      this.admitDroppingOldest(events, bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.pending.push({ events, bytes, resolve }));
  }

  /** Takes the next event, or undefined when none is ready. Capacity is still held: see release. */
  shift(): SourceEvent | undefined {
    if (this.readyCount === 0) return undefined;
    const batch = this.batches[this.batchHead]!;
    const event = batch[this.next++]!;
    this.readyCount--;
    if (this.next === batch.length) {
      this.batches[this.batchHead++] = undefined;
      this.next = 0;
      if (this.batchHead === this.batches.length) {
        this.batches.length = 0;
        this.batchHead = 0;
      } else if (this.batchHead > 64 && this.batchHead * 2 > this.batches.length) {
        this.batches = this.batches.slice(this.batchHead);
        this.batchHead = 0;
      }
    }
    return event;
  }

  /** A worker started `count` events of `bytes` bytes in all: their room goes back to the sources. */
  release(count: number, bytes: number): void {
    this.heldEvents -= count;
    this.heldBytes -= bytes;
    this.admitPending();
  }

  /** Resolves when an event is ready, or the queue is closed. */
  waitForEvent(): Promise<void> {
    if (this.ready > 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Removes every event not yet taken and returns them (for nacking at shutdown), and lets
   * pending offers through so that no source stays blocked on a stopped pipeline.
   */
  drainUnstarted(): SourceEvent[] {
    const rest: SourceEvent[] = [];
    for (let event = this.shift(); event; event = this.shift()) {
      rest.push(event);
      this.heldEvents--;
      this.heldBytes -= event.payload.length;
    }
    for (const offer of this.pending.splice(0)) {
      rest.push(...offer.events);
      offer.resolve();
    }
    return rest;
  }

  /**
   * Removes the not-yet-taken events matching `predicate` (ready ones and those of pending
   * offers) and returns them; their capacity goes back to the sources.
   */
  discard(predicate: (event: SourceEvent) => boolean): SourceEvent[] {
    const removed: SourceEvent[] = [];
    const kept: SourceEvent[] = [];
    for (let event = this.shift(); event !== undefined; event = this.shift()) {
      if (predicate(event)) {
        removed.push(event);
        this.heldEvents--;
        this.heldBytes -= event.payload.length;
      } else kept.push(event);
    }
    // What stays goes back as one batch (a new array: the sources' arrays are not changed).
    if (kept.length > 0) this.push(kept);
    for (const offer of this.pending) {
      const stay = offer.events.filter((event) => !predicate(event));
      if (stay.length === offer.events.length) continue;
      for (const event of offer.events) if (predicate(event)) removed.push(event);
      offer.events = stay;
      offer.bytes = stay.reduce((sum, event) => sum + event.payload.length, 0);
    }
    this.admitPending();
    return removed;
  }

  /** Wakes every waiting worker; the queue takes no more work. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private fits(count: number, bytes: number): boolean {
    if (this.heldEvents === 0) return true;
    return this.heldEvents + count <= this.options.maxEvents && this.heldBytes + bytes <= this.options.maxBytes;
  }

  private admit(events: SourceEvent[], bytes: number): void {
    if (events.length > 0) this.push(events);
    this.heldEvents += events.length;
    this.heldBytes += bytes;
    this.accepted += events.length;
    this.wake();
  }

  private push(events: SourceEvent[]): void {
    this.batches.push(events);
    this.readyCount += events.length;
  }

  private admitDroppingNewest(events: SourceEvent[]): void {
    const kept: SourceEvent[] = [];
    let keptBytes = 0;
    for (const event of events) {
      const size = event.payload.length;
      if (this.fits(kept.length + 1, keptBytes + size)) {
        kept.push(event);
        keptBytes += size;
      } else {
        this.drop(event);
      }
    }
    this.admit(kept, keptBytes);
  }

  private admitDroppingOldest(events: SourceEvent[], bytes: number): void {
    // Evict from the head of the ready events until the batch fits (events set aside by the
    // pool for per-key ordering cannot be evicted); whatever still does not fit is the newest.
    while (!this.fits(events.length, bytes) && this.ready > 0) {
      const oldest = this.shift()!;
      this.heldEvents--;
      this.heldBytes -= oldest.payload.length;
      this.drop(oldest);
    }
    if (this.fits(events.length, bytes)) this.admit(events, bytes);
    else this.admitDroppingNewest(events);
  }

  private drop(event: SourceEvent): void {
    this.dropped++;
    this.options.onDrop(event);
  }

  private admitPending(): void {
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (!this.fits(next.events.length, next.bytes)) return;
      this.pending.shift();
      this.admit(next.events, next.bytes);
      next.resolve();
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
