import type { SourceEvent } from '../broker/contract.ts';

/**
 * What "the later events of the same key" means for a source: the input of {@link Redelivery}'s
 * take-back (see there), so that a nacked event is not overtaken by them.
 *
 * - Kafka, memory: the topic's partition plus the record key. A log promises order within a
 *   partition only; the same key in another partition (or topic) is another order. (The core's
 *   `pool.orderByKey` runs a key's events one at a time whatever their partition: events of the
 *   key from other partitions may go ahead, which breaks no promise of the broker.) The sequence
 *   is the offset tracker's ticket, which grows with the offset within a partition's progress.
 * - Pub/Sub (ordered subscription): the ordering key; the sequence an arrival counter.
 * - Kinesis: the shard's reading (a generation: a lease lost and taken back starts its tickets
 *   anew) plus the partition key; the sequence a counter of the events built, since the user
 *   records of one KPL aggregate share a ticket.
 */
export interface KeyOrder<E> {
  /** `event` as this source's own, or undefined: the sink holds the events of other sources too. */
  own(event: SourceEvent): E | undefined;
  /**
   * Events of one scope are handled in their order. undefined: the event has no order to keep
   * (no key), a nack of it holds nothing back. Put in it whatever must match for two sequences to
   * be comparable (Kafka: the tracker generation, as a revoke may start the tickets anew).
   */
  scope(event: E): string | undefined;
  /** The event's place in its scope's original order (strictly increasing; a redelivery keeps it). */
  sequence(event: E): number;
}

interface Held<E> {
  readonly event: E;
  readonly sequence: number;
  /**
   * false for a nacked event whose delay is still running: it, and every event of the scope after
   * it, waits. true for events that wait only behind an earlier one (taken back, or read meanwhile).
   */
  due: boolean;
}

/**
 * One scope's events held behind a nacked event of theirs, in their original order, and how many
 * were released and not yet delivered (while there are, the scope's new events must still queue
 * behind them). Exists only while the scope has either: the normal path costs a Map lookup, and
 * nothing while no scope is held at all.
 */
export class ScopeHold<E> {
  private readonly held: Held<E>[] = [];
  /** Released by {@link releasable} and not yet taken for delivery. */
  released = 0;

  constructor(readonly scope: string) {}

  /** Adds an event at its place in sequence order (usually the end). */
  add(event: E, sequence: number, due: boolean): Held<E> {
    const entry = { event, sequence, due };
    let at = this.held.length;
    while (at > 0 && this.held[at - 1]!.sequence > sequence) at--;
    this.held.splice(at, 0, entry);
    return entry;
  }

  remove(entry: Held<E>): void {
    const at = this.held.indexOf(entry);
    if (at >= 0) this.held.splice(at, 1);
  }

  /** Takes out the events no nacked one waits in front of (the due prefix), in order. */
  releasable(): E[] {
    let count = 0;
    while (count < this.held.length && this.held[count]!.due) count++;
    return this.held.splice(0, count).map((entry) => entry.event);
  }

  get size(): number {
    return this.held.length;
  }

  /** Nothing held and nothing released waits: the scope is free again. */
  get idle(): boolean {
    return this.held.length === 0 && this.released === 0;
  }
}
