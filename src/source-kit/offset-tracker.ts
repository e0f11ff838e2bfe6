/**
 * Contiguous-offset tracking, shared by every adapter that reads ordered logs (memory, Kafka,
 * Kinesis).
 *
 * The worker pool finishes events out of order. A log consumer may only commit a position once
 * every event before it is done too, or a crash would skip the unfinished ones. Each delivered
 * event takes a ticket from its partition's {@link PartitionProgress}; completing tickets moves
 * the committable position forward over the longest completed prefix (as Benthos' checkpointer).
 *
 * Tickets are plain integers, kept in a ring (slot = ticket & mask) of offsets and done flags that
 * doubles when more tickets are in flight than it holds: tracking and completing an event are a
 * few array writes, with no allocation and no copying on the way (the earlier growing arrays were
 * re-grown from empty and copied every ~1,000 tickets: ~75 ns per event in `bench-core`'s
 * profile). An offset may be tracked as the bigint a client hands over (@platformatic/kafka): it
 * is turned into text only when a position is read (a commit, a scrape), not once per event,
 * which at 100,000+ events a second is about a tenth of a microsecond each saved.
 */
export class PartitionProgress {
  /** The offset of each ticket in flight, at slot ticket & mask; emptied as the head passes. */
  private offsets: (string | bigint | undefined)[] = new Array<undefined>(INITIAL_SLOTS).fill(undefined);
  /** 1 for a ticket in flight that completed (out of order, ahead of the head). */
  private done = new Uint8Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  /** The first ticket not completed: every ticket before it did (or was dropped by a reset). */
  private head = 0;
  /** The next ticket to issue. */
  private next = 0;
  private lastCompleted: string | bigint | undefined;
  private lastTaken: string | bigint | undefined;
  /** Broker timestamps of tracked events, one entry per delivered batch (see {@link stamp}). */
  private stamps: ({ first: number; count: number; at: (index: number) => number } | undefined)[] = [];
  private stampHead = 0;

  constructor(readonly partition: string) {}

  /** Registers the next delivered offset of this partition. Call in delivery order. */
  track(offset: string | bigint): number {
    if (this.next - this.head > this.mask) this.grow();
    // `&` works on the low 32 bits, which is all a power-of-two ring needs, up to 2^53 tickets.
    const slot = this.next & this.mask;
    this.offsets[slot] = offset;
    this.done[slot] = 0;
    return this.next++;
  }

  /** Marks a ticket done. Unknown or stale tickets (before a reset) are ignored; idempotent. */
  complete(ticket: number): void {
    if (ticket < this.head || ticket >= this.next) return;
    const mask = this.mask;
    const done = this.done;
    done[ticket & mask] = 1;
    if (ticket !== this.head) return;
    const offsets = this.offsets;
    const next = this.next;
    let head = ticket;
    let last: string | bigint | undefined;
    // The slot is emptied as the head passes it: the offset (and the ring) keep nothing alive.
    while (head < next && done[head & mask] === 1) {
      const slot = head & mask;
      last = offsets[slot];
      offsets[slot] = undefined;
      head++;
    }
    this.lastCompleted = last;
    this.head = head;
    // Nothing in flight: no stamp can be read any more. Dropped here rather than at the next
    // stamp(), because a stamp's `at` usually closes over its batch's records, whose payloads point
    // into the client's fetch buffers: kept, they outlive young-generation collections and are
    // promoted, which costs more in the garbage collector than everything else Sluice does per event.
    if (head === next && this.stamps.length > 0) {
      this.stamps.length = 0;
      this.stampHead = 0;
    }
  }

  /**
   * Tells when the `count` events tracked from `firstTicket` on were written to the broker:
   * `at(i)` is the broker timestamp of ticket `firstTicket + i`. One call per delivered batch, so
   * the per-event path does no extra work; read by {@link oldestPendingTimestamp} at scrape time.
   */
  stamp(firstTicket: number, count: number, at: (index: number) => number): void {
    // Batches every ticket of which completed are dropped here (once per batch), so the list is
    // as long as the batches still in flight even when nobody reads the timestamps.
    const done = this.head;
    const stamps = this.stamps;
    // The slot is cleared, not only skipped: see complete() for what a stamp keeps alive.
    while (this.stampHead < stamps.length && stamps[this.stampHead]!.first + stamps[this.stampHead]!.count <= done) {
      stamps[this.stampHead++] = undefined;
    }
    if (this.stampHead > 64 && this.stampHead * 2 > stamps.length) {
      this.stamps = stamps.slice(this.stampHead);
      this.stampHead = 0;
    }
    this.stamps.push({ first: firstTicket, count, at });
  }

  /**
   * Broker timestamp of the oldest tracked event not yet completed (the first pending one: a
   * partition's events are in broker order), if its batch was {@link stamp}ed; else undefined.
   */
  get oldestPendingTimestamp(): number | undefined {
    if (this.head === this.next) return undefined;
    const ticket = this.head;
    for (let i = this.stampHead; i < this.stamps.length; i++) {
      const batch = this.stamps[i]!;
      if (ticket >= batch.first && ticket < batch.first + batch.count) return batch.at(ticket - batch.first);
    }
    return undefined;
  }

  /** Tickets issued so far (since this progress was created, resets included). */
  get tracked(): number {
    return this.next;
  }

  /** Tickets issued so far whose event and every event before it completed. */
  get completed(): number {
    return this.head;
  }

  /** The highest offset such that it and everything tracked before it completed. */
  get committable(): string | undefined {
    return asText(this.lastCompleted);
  }

  /**
   * The committable offset if it moved since the last call, else undefined. Adapters call this
   * from their periodic commit so that an idle partition is not committed again and again.
   */
  takeCommittable(): string | undefined {
    if (this.lastCompleted === this.lastTaken) return undefined;
    this.lastTaken = this.lastCompleted;
    return asText(this.lastCompleted);
  }

  /** Tickets tracked and not yet completed (the partition's in-flight count). */
  get pending(): number {
    let count = 0;
    for (let ticket = this.head; ticket < this.next; ticket++) if (this.done[ticket & this.mask] === 0) count++;
    return count;
  }

  /** True when every tracked ticket completed. */
  get idle(): boolean {
    return this.head === this.next;
  }

  /**
   * Forgets everything in flight (the partition was revoked, the lease lost): tickets issued so
   * far are ignored from now on. `committedOffset` is where the next owner will start.
   */
  reset(committedOffset?: string): void {
    for (let ticket = this.head; ticket < this.next; ticket++) this.offsets[ticket & this.mask] = undefined;
    this.head = this.next;
    this.lastCompleted = committedOffset;
    this.lastTaken = committedOffset;
    this.stamps = [];
    this.stampHead = 0;
  }

  /** Twice the slots, the tickets in flight moved to theirs. */
  private grow(): void {
    const slots = (this.mask + 1) * 2;
    const mask = slots - 1;
    const offsets = new Array<string | bigint | undefined>(slots).fill(undefined);
    const done = new Uint8Array(slots);
    for (let ticket = this.head; ticket < this.next; ticket++) {
      offsets[ticket & mask] = this.offsets[ticket & this.mask];
      done[ticket & mask] = this.done[ticket & this.mask]!;
    }
    this.offsets = offsets;
    this.done = done;
    this.mask = mask;
  }
}

/** Slots of a new partition's ring: small, as a source may read thousands of partitions or shards. */
const INITIAL_SLOTS = 64;

/** An offset as text (bigints compare by value with ===, so a position taken once is not taken again). */
function asText(offset: string | bigint | undefined): string | undefined {
  return typeof offset === 'bigint' ? offset.toString() : offset;
}

/** The {@link PartitionProgress} of every partition a source reads. */
export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionProgress>();

  partition(name: string): PartitionProgress {
    let progress = this.partitions.get(name);
    if (!progress) {
      progress = new PartitionProgress(name);
      this.partitions.set(name, progress);
    }
    return progress;
  }

  has(name: string): boolean {
    return this.partitions.has(name);
  }

  /** Stops tracking a partition (revoked); its outstanding tickets are ignored. */
  remove(name: string): PartitionProgress | undefined {
    const progress = this.partitions.get(name);
    progress?.reset();
    this.partitions.delete(name);
    return progress;
  }

  all(): IterableIterator<PartitionProgress> {
    return this.partitions.values();
  }

  /** Positions that moved since the last call, by partition: what a periodic commit writes. */
  takeCommittable(): Map<string, string> {
    const result = new Map<string, string>();
    for (const [name, progress] of this.partitions) {
      const offset = progress.takeCommittable();
      if (offset !== undefined) result.set(name, offset);
    }
    return result;
  }

  /** Whether every tracked event of the given partitions (default all) completed. */
  idle(names?: Iterable<string>): boolean {
    if (!names) {
      for (const progress of this.partitions.values()) if (!progress.idle) return false;
      return true;
    }
    for (const name of names) if (this.partitions.get(name)?.idle === false) return false;
    return true;
  }
}
