import type { SourceEvent } from '../broker/contract.ts';
import type { BoundedQueue } from './bounded-queue.ts';

/**
 * N workers that take events from the queue until it is closed and empty (kafkajs' pool idea).
 *
 * With `orderByKey`, events of one key run one at a time in arrival order: a worker that takes
 * an event whose key is busy sets it aside on that key's list; the worker holding the key runs
 * the list before letting the key go. Set-aside events keep their queue capacity until started,
 * so a hot key cannot make the pool hoard events without bound.
 */
export class WorkerPool {
  /** Workers inside a handler right now. */
  busy = 0;
  private readonly keyed = new Map<string, SourceEvent[]>();
  private workers: Promise<void>[] = [];
  /** The event each worker runs now (index = worker), so a timed-out shutdown can nack them. */
  private readonly current: (SourceEvent | undefined)[] = [];

  constructor(
    private readonly queue: BoundedQueue,
    readonly size: number,
    /**
     * Runs one event; returns nothing when it finished synchronously. `continued` is true when
     * this worker's previous event finished synchronously just before, with nothing run in
     * between (see EventProcessor.process).
     */
    private readonly process: (event: SourceEvent, continued: boolean) => void | Promise<void>,
    private readonly orderByKey: boolean,
    /**
     * Called when a worker's run of synchronous events ends, before it yields: what `process`
     * deferred for the run (EventProcessor.settle) is done then.
     */
    private readonly settle: () => void = () => undefined,
  ) {}

  start(): void {
    for (let i = 0; i < this.size; i++) this.workers.push(this.work(i));
  }

  /** Resolves when every worker stopped (the queue was closed and drained). */
  async done(): Promise<void> {
    await Promise.all(this.workers);
  }

  /** Events being processed right now. */
  running(): SourceEvent[] {
    return this.current.filter((event): event is SourceEvent => event !== undefined);
  }

  /** Removes set-aside events matching `predicate` (see EventSink.discard) and returns them. */
  discardSetAside(predicate: (event: SourceEvent) => boolean): SourceEvent[] {
    const removed: SourceEvent[] = [];
    for (const list of this.keyed.values()) {
      const stay = list.filter((event) => !predicate(event));
      if (stay.length === list.length) continue;
      for (const event of list) if (predicate(event)) removed.push(event);
      list.splice(0, list.length, ...stay);
    }
    for (const event of removed) this.queue.release(1, event.payload.length);
    return removed;
  }

  /** Events set aside for a busy key, not started yet. */
  setAside(): SourceEvent[] {
    const events: SourceEvent[] = [];
    for (const list of this.keyed.values()) events.push(...list);
    return events;
  }

  private async work(worker: number): Promise<void> {
    const queue = this.queue;
    // The previous event of this worker finished synchronously and nothing ran since.
    let continued = false;
    for (;;) {
      const event = queue.shift();
      if (event === undefined) {
        if (continued) this.settle();
        if (queue.isClosed) return;
        continued = false;
        await queue.waitForEvent();
        continue;
      }
      if (this.orderByKey && event.key !== undefined) {
        const waiting = this.keyed.get(event.key);
        if (waiting) {
          waiting.push(event);
          continue;
        }
        this.keyed.set(event.key, []);
        await this.runKey(worker, event);
        continued = false;
      } else {
        const running = this.run(worker, event, continued);
        continued = !running;
        if (running) await running;
      }
    }
  }

  private async runKey(worker: number, first: SourceEvent): Promise<void> {
    const waiting = this.keyed.get(first.key!)!;
    let event: SourceEvent | undefined = first;
    while (event) {
      await this.run(worker, event, false);
      event = waiting.shift();
    }
    this.keyed.delete(first.key!);
  }

  private run(worker: number, event: SourceEvent, continued: boolean): void | Promise<void> {
    this.queue.release(1, event.payload.length);
    this.busy++;
    this.current[worker] = event;
    let result: void | Promise<void>;
    try {
      result = this.process(event, continued);
    } catch (error) {
      this.finish(worker);
      throw error;
    }
    if (result) return result.finally(() => this.finish(worker));
    this.finish(worker);
  }

  private finish(worker: number): void {
    this.busy--;
    this.current[worker] = undefined;
  }
}
