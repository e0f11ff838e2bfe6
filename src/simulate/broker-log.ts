// The broker side of the model: arrivals appended to partitions (Kafka partitions, Kinesis
// shards, memory partitions; Pub/Sub is one backlog), read in order by a delivery model.
// Mirrors adapters/memory/memory-broker.ts (MemoryTopic.partitionFor: keyed events by hash,
// keyless round-robin; MemoryPartition.read) and, for Kinesis, the per-shard write limit
// (PutRecords: 1,000 records/s and 1 MB/s per shard) as a producer-side delay.
// With a timer-based handler (scenario.ts), evenly spaced arrivals are appended each at a random
// point of its slot (`slotJitter`): the bench's producer (a process for Kafka, a thread posting to
// the consumer's loop for the memory broker) puts its records anywhere within the consumer's
// millisecond (what validate's whole-ms timestamp correction assumes too). Exactly spaced, a rate
// that divides 1,000/s sat every arrival on the handler timers' millisecond grid
// (ServiceTime.tick), latencies came out in whole-ms steps, and a p50 jumped with the smallest
// change of input: kafka-pool16's 1.06 → 2.06 → 3.03 ms for a fetch latency of 0.4 → 0.5 →
// 0.55 ms, memory-pool16's 1.18 or 1.56 ms from one set of measured sleeps to the next.
import type { Random } from './random.ts';
import type { Arrivals } from './workload.ts';
import type { KeySampler } from './keys.ts';
import { partitionOfKey } from './keys.ts';

/** A FIFO of (time, key) pairs in growable typed arrays: no object per event. */
export class RecordQueue {
  times = new Float64Array(1024);
  keys = new Int32Array(1024);
  head = 0;
  tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(time: number, key: number): void {
    if (this.tail === this.times.length) this.makeRoom();
    this.times[this.tail] = time;
    this.keys[this.tail++] = key;
  }

  private makeRoom(): void {
    const live = this.tail - this.head;
    if (this.head > 0 && live * 2 <= this.times.length) {
      this.times.copyWithin(0, this.head, this.tail);
      this.keys.copyWithin(0, this.head, this.tail);
    } else {
      const times = new Float64Array(this.times.length * 2);
      const keys = new Int32Array(this.times.length * 2);
      times.set(this.times.subarray(this.head, this.tail));
      keys.set(this.keys.subarray(this.head, this.tail));
      this.times = times;
      this.keys = keys;
    }
    this.head = 0;
    this.tail = live;
  }
}

export interface WriteLimit {
  /** Records per second per partition the broker accepts (Kinesis: 1,000). */
  recordsPerSecond: number;
  /** Bytes per second per partition (Kinesis: 1 MB/s). */
  bytesPerSecond: number;
}

export class BrokerLog {
  readonly partitions: RecordQueue[];
  /** Arrivals generated so far (the producer's offered events). */
  sent = 0;
  /** Arrivals the broker appended (equals sent unless a write limit delays them). */
  appendedCount = 0;
  /** Longest delay a write limit put between an arrival and its append (s). */
  maxWriteDelay = 0;
  /** When the next arrival is appended (its slot's random point with slotJitter). */
  private nextArrival: number;
  /**
   * Memory broker (scenario.ts): the publisher's append runs on the consumer's one event loop (the
   * bench's producer thread posts its batches there; `Date.now()` stamps them there), so this
   * gives when the loop is free for an append arriving at `t` (Engine.loopFreeAt).
   */
  appendOnLoop: ((t: number) => number) | undefined;
  /** The latest append time so far (after an arrival when the loop was busy). */
  lastAppend = 0;
  /** slotJitter: the arrival after the next one, unjittered (its slot's end). */
  private following = Number.POSITIVE_INFINITY;
  private roundRobin = 0;
  /** Per partition: when the next record may be appended under the write limit. */
  private readonly writeFree: Float64Array;
  private readonly writeGap: number;

  constructor(
    partitionCount: number,
    private readonly arrivals: Arrivals,
    private readonly keys: KeySampler,
    messageSize: number,
    writeLimit: WriteLimit | undefined,
    /** Append each arrival at a uniform point between it and the next (evenly spaced arrivals). */
    private readonly slotJitter?: Random,
  ) {
    this.partitions = Array.from({ length: partitionCount }, () => new RecordQueue());
    this.writeFree = new Float64Array(partitionCount);
    this.writeGap = writeLimit ? Math.max(1 / writeLimit.recordsPerSecond, messageSize / writeLimit.bytesPerSecond) : 0;
    this.nextArrival = arrivals.next();
    if (slotJitter) {
      this.following = arrivals.next();
      this.nextArrival = this.jittered(this.nextArrival, this.following);
    }
  }

  /** A uniform point of the slot [at, end) (the last arrival, with no end, stays put). */
  private jittered(at: number, end: number): number {
    return end === Number.POSITIVE_INFINITY ? at : at + this.slotJitter!.next() * (end - at);
  }

  /** The arrival after the one just appended. */
  private advance(): number {
    if (!this.slotJitter) return this.arrivals.next();
    const at = this.following;
    this.following = at === Number.POSITIVE_INFINITY ? at : this.arrivals.next();
    return at === Number.POSITIVE_INFINITY ? at : this.jittered(at, this.following);
  }

  /** When the next arrival happens (Infinity after the horizon). */
  get upcoming(): number {
    return this.nextArrival;
  }

  /** Appends every arrival up to time `t`. */
  appendUntil(t: number): void {
    let next = this.nextArrival;
    if (next > t) return;
    const partitions = this.partitions;
    const count = partitions.length;
    const gap = this.writeGap;
    const keys = this.keys;
    let sent = this.sent;
    while (next <= t) {
      const key = keys.next();
      const p = key < 0 ? this.roundRobin++ % count : partitionOfKey(key, count);
      let at = next;
      // Appended on the consumer's loop: an arrival while the loop is busy (a GC pause, other
      // work) is appended, and stamped, when the loop is free. Known only at the arrival itself:
      // one appended later (a blocked delivery) keeps its time.
      if (this.appendOnLoop && next === t) at = this.appendOnLoop(t);
      if (at > this.lastAppend) this.lastAppend = at;
      if (gap > 0) {
        at = Math.max(next, this.writeFree[p]!);
        this.writeFree[p] = at + gap;
        if (at - next > this.maxWriteDelay) this.maxWriteDelay = at - next;
      }
      partitions[p]!.push(at, key);
      sent++;
      next = this.advance();
    }
    this.sent = sent;
    this.nextArrival = next;
  }

  /** Records of partition `p` appended by `t` and not read yet. */
  readable(p: number, t: number): number {
    const queue = this.partitions[p]!;
    const times = queue.times;
    const i = queue.head;
    const tail = queue.tail;
    // Usually everything or nothing is readable: check the last one first.
    if (i === tail || times[i]! > t) return 0;
    if (times[tail - 1]! <= t) return tail - i;
    let low = i;
    let high = tail - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (times[middle]! <= t) low = middle;
      else high = middle - 1;
    }
    return low - i + 1;
  }

  /** When partition `p` next has a readable record after `t` (Infinity when none is coming yet). */
  nextReadable(p: number, t: number): number {
    const queue = this.partitions[p]!;
    if (queue.head < queue.tail) {
      const first = queue.times[queue.head]!;
      return Math.max(first, t);
    }
    return this.nextArrival;
  }

  /** Records in the broker not read yet, in all partitions (appended or waiting for the write limit). */
  get backlog(): number {
    let total = 0;
    for (const queue of this.partitions) total += queue.length;
    return total;
  }
}
