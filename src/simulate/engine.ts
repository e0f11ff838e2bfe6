// The simulation engine: a discrete-event model of src/core, driven by a delivery model of one
// broker (delivery-*.ts). Event times come from three places only: the next worker to finish
// (a binary min-heap of pool.size entries), the delivery model's next action, and nacked
// events coming back. Events live in typed arrays (slots), so the per-event cost is a few array
// writes and one heap operation: no object, no closure, no per-event heap entry beyond a worker's.
//
// Mirrors (file:function → here):
//  - src/core/bounded-queue.ts, src/core/pipeline.ts Pipeline.deliver, the delivery lane / gate:
//    sink-queue.ts (the base class). WorkerPool.run releases an event's room when it starts →
//    start() calls admitPending.
//  - src/core/worker-pool.ts WorkerPool.work/runKey: pool.size workers take events in queue
//    order; with orderByKey an event whose key is busy is set aside on that key's list at once
//    (the worker does NOT wait: it takes the next event), and the worker holding the key runs the
//    key's list before letting the key go → takeNext, onFinish.
//  - nack → redelivery after the broker's nackDelayMs (memory, Kafka, Kinesis sources).
//  - The one event loop (--model loopUsPerEvent, measured): a handler's completion (its timer
//    callback, the ack, the worker's next take) runs on the loop when the loop is free and costs
//    it that much, the worker held meanwhile; a measured share of completions brings a GC pause
//    (drawn from measured pauses) that stops the loop → onFinish.
// Simplified: the loop is one FIFO server charged per completion with the whole per-event cost
// (delivery and client work included, not charged where they happen, so a batch read does not
// stall completions and a dropped event costs nothing); every event has the same payload size
// (--message-size); see README.md.
import type { BrokerLog } from './broker-log.ts';
import { HandlerRun, Outcome } from './handler-model.ts';
import { LatencyHistogram } from './histogram.ts';
import type { Random } from './random.ts';
import { type DeliveryModel, type EngineOptions, SinkQueue } from './sink-queue.ts';

export type { DeliveryModel, EngineOptions };
import { WorkerHeap } from './slots.ts';

export class Engine extends SinkQueue {
  readonly latency = new LatencyHistogram();
  // counters
  readCount = 0;
  started = 0;
  completed = 0;
  retried = 0;
  deadLettered = 0;
  nacked = 0;
  peakInProcess = 0;
  horizonSnapshot: { completed: number; dropped: number; backlog: number; heldByWriteLimit: number; unfinished: number } | undefined;
  // pool
  private readonly workers: WorkerHeap;
  private readonly idle: Int32Array;
  private idleCount: number;
  private readonly owns: Int32Array;
  private readonly keyBusy: Uint8Array;
  private readonly keyHead: Int32Array;
  private readonly keyTail: Int32Array;
  private dispatching = false;
  private readonly run: HandlerRun;
  // redeliveries: slots nacked, by the time they come back (nondecreasing)
  private readonly redeliveries: { at: number; slot: number }[] = [];
  private redeliveryHead = 0;
  /** When the first nacked event comes back (Infinity: none): read on every step, so kept at hand. */
  private nextRedelivery = Number.POSITIVE_INFINITY;
  /** When the event loop is next free (loopCost model), and which workers already waited for it. */
  private loopFree = 0;
  private readonly loopWaited: Uint8Array;
  /** The handler's timer grid (s; 0: none): ServiceTime.tick. */
  private readonly tick: number;

  constructor(
    options: EngineOptions,
    readonly broker: BrokerLog,
    private readonly random: Random,
  ) {
    super(options);
    const size = options.pool.size;
    this.workers = new WorkerHeap(size);
    this.idle = Int32Array.from({ length: size }, (_, i) => size - 1 - i);
    this.idleCount = size;
    this.owns = new Int32Array(size).fill(-1);
    const keys = Math.max(1, options.keyCount);
    this.keyBusy = new Uint8Array(keys);
    this.keyHead = new Int32Array(keys).fill(-1);
    this.keyTail = new Int32Array(keys).fill(-1);
    this.run = new HandlerRun(options.handler, random);
    this.loopWaited = new Uint8Array(size);
    this.tick = options.handler.service.tick ?? 0;
  }

  /** Runs to the horizon plus the drain (or until nothing is left to do after the horizon). */
  simulate(model: DeliveryModel): this {
    this.model = model;
    const end = this.options.horizon + this.options.drain;
    const horizon = this.options.horizon;
    const workers = this.workers;
    let nextSample = 1;
    for (;;) {
      let t = workers.size > 0 ? workers.topTime : Number.POSITIVE_INFINITY;
      let which = 0;
      if (model.nextAt < t) {
        t = model.nextAt;
        which = 1;
      }
      const redelivery = this.nextRedelivery;
      if (redelivery < t) {
        t = redelivery;
        which = 2;
      }
      if (t >= horizon && !this.horizonSnapshot) this.snapshotHorizon(horizon);
      if (t === Number.POSITIVE_INFINITY && nextSample > horizon) break;
      if (t >= nextSample) {
        if (nextSample > end) break;
        this.sample(nextSample);
        nextSample++;
        continue;
      }
      if (t > end) break;
      this.now = t;
      if (which === 0) this.onFinish(workers.pop(), t);
      else if (which === 1) model.act(t);
      else this.redeliver(t);
      if (this.notify.length > 0 || (this.gate.length > 0 && !this.pending)) this.settle(t);
    }
    if (!this.horizonSnapshot) this.snapshotHorizon(horizon);
    if (this.pending) this.pausedSeconds += Math.min(this.now, end) - this.pausedSince;
    return this;
  }

  /** Takes `count` records of partition `p` out of the broker into event slots. */
  read(p: number, count: number): number[] {
    const queue = this.broker.partitions[p]!;
    const batch = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const at = queue.head + i;
      batch[i] = this.slots.take(queue.times[at]!, queue.keys[at]!);
    }
    queue.head += count;
    this.readCount += count;
    const inProcess = this.readCount - this.completed - this.dropped;
    if (inProcess > this.peakInProcess) this.peakInProcess = inProcess;
    return batch;
  }

  /** When the one event loop is free for work that arrives at `t` (FIFO behind what is queued). */
  loopFreeAt(t: number): number {
    return Math.max(t, this.loopFree);
  }

  /**
   * A task of `cost` seconds on the one event loop, ready at `t` (a Kafka fetch's decode): it
   * runs when the loop is free (FIFO with the completions) and holds it; returns when it ends.
   */
  loopTask(t: number, cost: number): number {
    if (cost <= 0) return t;
    this.loopFree = Math.max(t, this.loopFree) + cost;
    return this.loopFree;
  }

  /** Events read and not finished: in the source's hands, the queue, a worker, or nacked. */
  get inProcess(): number {
    return this.readCount - this.completed - this.dropped;
  }

  get inFlight(): number {
    return this.workers.size;
  }

  /** Idle workers take ready events (queue.waitForEvent woke them). */
  protected dispatch(t: number): void {
    if (this.dispatching) return;
    this.dispatching = true;
    while (this.idleCount > 0 && this.readyLength > 0) this.takeNext(this.idle[--this.idleCount]!, t, false);
    this.dispatching = false;
  }

  /** WorkerPool.work: shift events; set aside those of a busy key; start the first one free. */
  /** `chained`: the worker comes straight from its last event (its handler starts in that event's completion). */
  private takeNext(worker: number, t: number, chained: boolean): void {
    const keyed = this.options.pool.orderByKey;
    const slots = this.slots;
    while (this.readyLength > 0) {
      const slot = this.shiftReady();
      const key = slots.key[slot]!;
      if (keyed && key >= 0) {
        if (this.keyBusy[key]) {
          slots.next[slot] = -1;
          if (this.keyTail[key]! >= 0) slots.next[this.keyTail[key]!] = slot;
          else this.keyHead[key] = slot;
          this.keyTail[key] = slot;
          continue;
        }
        this.keyBusy[key] = 1;
        this.owns[worker] = key;
      }
      this.start(worker, slot, t, chained);
      return;
    }
    this.idle[this.idleCount++] = worker;
  }

  /** WorkerPool.run: release the event's room (admitting a waiting offer), then run the handler. */
  private start(worker: number, slot: number, t: number, chained: boolean): void {
    this.held--;
    this.started++;
    const busy = this.run.busyTime(chained);
    this.slots.outcome[slot] = this.run.outcome;
    this.workers.push(worker, slot, this.tick > 0 && !chained ? this.onTick(t, busy) : t + busy);
    this.admitPending(t);
  }

  /**
   * A timer-based handler's end, put on the loop's millisecond grid: Node fires every timer due
   * by a tick of its whole-ms clock in one turn, one callback (and its ack, the next take) after
   * another. The delivered durations were measured from starts at any point of a millisecond,
   * so rounding the end to the nearest tick keeps their mean and puts the ends where they
   * cluster. Not for a chained start: it begins in a completion, so its measured duration
   * already runs from a tick to the next firing (2.2 ms for fixed:2: the 0.2 ms is the wake-up
   * after the tick), and rounding would drop that offset (kafka-pool2-short's pool of 2 came
   * out at 2 ms a cycle, 12 % fast).
   */
  private onTick(t: number, busy: number): number {
    const tick = this.tick;
    const end = Math.round((t + busy) / tick) * tick;
    return end >= t ? end : end + tick;
  }

  private onFinish(worker: number, t: number): void {
    const slot = this.workers.slotOf(worker);
    const loop = this.options.loopCost ?? 0;
    const gc = this.options.gc;
    if ((loop > 0 || gc) && !this.loopWaited[worker]) {
      // The handler's completion (timer callback, ack, the next take) runs on the loop: when
      // the loop is free, and holds the worker for the loop's cost of the event; now and then
      // the allocation it did brings a GC pause, which stops the loop for everyone behind it.
      this.loopFree = Math.max(t, this.loopFree) + loop;
      if (gc && this.random.next() < gc.perEvent) this.loopFree += gc.pauses[Math.floor(this.random.next() * gc.pauses.length)]!;
      this.loopWaited[worker] = 1;
      this.workers.push(worker, slot, this.loopFree);
      return;
    }
    this.loopWaited[worker] = 0;
    const slots = this.slots;
    const outcome = slots.outcome[slot]!;
    if (outcome === Outcome.Nacked) {
      this.nacked++;
      this.redeliveries.push({ at: t + this.options.nackDelay, slot });
      if (this.nextRedelivery === Number.POSITIVE_INFINITY) this.nextRedelivery = t + this.options.nackDelay;
    } else {
      this.completed++;
      if (outcome === Outcome.DeadLettered) this.deadLettered++;
      else if (outcome === Outcome.Retried) this.retried++;
      const appended = slots.appended[slot]!;
      const latency = t - appended;
      if (appended >= this.options.warmup) this.latency.record(latency);
      this.series.ack(latency);
      slots.free(slot);
      this.model.settled?.(t);
    }
    const key = this.owns[worker]!;
    if (key >= 0) {
      const next = this.keyHead[key]!;
      if (next >= 0) {
        this.keyHead[key] = slots.next[next]!;
        if (this.keyHead[key] < 0) this.keyTail[key] = -1;
        this.start(worker, next, t, true);
        return;
      }
      this.keyBusy[key] = 0;
      this.owns[worker] = -1;
    }
    this.takeNext(worker, t, true);
  }

  /** Nacked events due again are delivered as one batch (lane -1: the engine's own). */
  private redeliver(t: number): void {
    const batch: number[] = [];
    const list = this.redeliveries;
    while (this.redeliveryHead < list.length && list[this.redeliveryHead]!.at <= t && batch.length < this.maxBatch) {
      batch.push(list[this.redeliveryHead++]!.slot);
    }
    if (this.redeliveryHead > 1024 && this.redeliveryHead * 2 > list.length) {
      list.splice(0, this.redeliveryHead);
      this.redeliveryHead = 0;
    }
    this.nextRedelivery = this.redeliveryHead < list.length ? list[this.redeliveryHead]!.at : Number.POSITIVE_INFINITY;
    this.deliver(batch, -1, t);
  }

  private sample(t: number): void {
    this.broker.appendUntil(t);
    if (this.pending) {
      this.series.paused(t - this.pauseMark);
      this.pauseMark = t;
    }
    this.series.close(t, { sent: this.broker.sent, queueDepth: this.held, backlog: this.brokerBacklog(t), inFlight: this.workers.size });
  }

  /** Records appended by `t` and not read (not those a write limit still holds at the producer). */
  brokerBacklog(t: number): number {
    let total = 0;
    for (let p = 0; p < this.broker.partitions.length; p++) total += this.broker.readable(p, t);
    return total;
  }

  private snapshotHorizon(horizon: number): void {
    this.broker.appendUntil(horizon);
    this.horizonSnapshot = {
      completed: this.completed,
      dropped: this.dropped,
      backlog: this.brokerBacklog(horizon),
      heldByWriteLimit: this.broker.backlog - this.brokerBacklog(horizon),
      unfinished: this.inProcess,
    };
  }
}
