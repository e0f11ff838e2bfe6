// Storage of the engine: events in typed arrays indexed by a slot number (reused once the event
// is done), and the busy workers in a binary min-heap by finish time. Nothing here allocates per
// event; both grow by doubling when needed.

export class SlotStore {
  /** When the event was appended to the broker (s): latency is measured from it. */
  appended = new Float64Array(1024);
  /** Key index, -1 for none. */
  key = new Int32Array(1024);
  /** Next slot in a key's set-aside list (-1: last). */
  next = new Int32Array(1024);
  /** How its handler run ends (handler-model.ts Outcome), decided when it starts. */
  outcome = new Uint8Array(1024);
  private free_ = new Int32Array(1024);
  private freeCount = 0;
  private used = 0;

  take(appended: number, key: number): number {
    const slot = this.freeCount > 0 ? this.free_[--this.freeCount]! : this.fresh();
    this.appended[slot] = appended;
    this.key[slot] = key;
    return slot;
  }

  free(slot: number): void {
    this.free_[this.freeCount++] = slot;
  }

  private fresh(): number {
    if (this.used === this.appended.length) {
      const size = this.used * 2;
      const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
        const bigger = make(size);
        bigger.set(old);
        return bigger;
      };
      this.appended = grow(this.appended, (n) => new Float64Array(n));
      this.key = grow(this.key, (n) => new Int32Array(n));
      this.next = grow(this.next, (n) => new Int32Array(n));
      this.outcome = grow(this.outcome, (n) => new Uint8Array(n));
      this.free_ = grow(this.free_, (n) => new Int32Array(n));
    }
    return this.used++;
  }
}

/** Busy workers by finish time: O(log pool) per start and finish. */
export class WorkerHeap {
  private readonly finish: Float64Array;
  private readonly slot: Int32Array;
  private readonly heap: Int32Array;
  size = 0;

  constructor(workers: number) {
    this.finish = new Float64Array(workers);
    this.slot = new Int32Array(workers);
    this.heap = new Int32Array(workers);
  }

  get topTime(): number {
    return this.finish[this.heap[0]!]!;
  }

  slotOf(worker: number): number {
    return this.slot[worker]!;
  }

  push(worker: number, slot: number, time: number): void {
    this.finish[worker] = time;
    this.slot[worker] = slot;
    const heap = this.heap;
    const finish = this.finish;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = heap[parent]!;
      if (finish[up]! <= time) break;
      heap[i] = up;
      i = parent;
    }
    heap[i] = worker;
  }

  /** Removes and returns the worker that finishes first. */
  pop(): number {
    const heap = this.heap;
    const finish = this.finish;
    const top = heap[0]!;
    const last = heap[--this.size]!;
    const size = this.size;
    if (size > 0) {
      const time = finish[last]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && finish[heap[child + 1]!]! < finish[heap[child]!]!) child++;
        if (finish[heap[child]!]! >= time) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
