// The queue side of the engine: the sink a delivery model delivers into, and the bounded queue
// behind it. Mirrors src/core/bounded-queue.ts BoundedQueue (offer/fits/admit/
// admitDroppingNewest/admitDroppingOldest/admitPending; capacity held from admission until a
// worker starts the event; a batch is admitted whole; any batch goes into an empty queue;
// drop-oldest evicts only ready events, never those set aside for a busy key),
// src/core/pipeline.ts Pipeline.deliver (paused while an offer waits: pauses and paused time)
// and maxBatchFor, and the one-delivery-at-a-time rule of the sink contract as
// src/source-kit/delivery-lane.ts keeps it for Kafka and Kinesis (others wait in
// FIFO order: the gate).
import type { OverflowPolicy } from '../core/bounded-queue.ts';
import type { HandlerModel } from './handler-model.ts';
import { SeriesRecorder } from './series.ts';
import { SlotStore } from './slots.ts';

/** A broker's delivery model: reads the broker log and delivers batches to the engine. */
export interface DeliveryModel {
  /** Next simulated time the model wants {@link act} (Infinity: it waits for a callback). */
  nextAt: number;
  act(t: number): void;
  /** A batch delivered on `lane` was accepted (admitted or dropped) by the queue. */
  accepted(t: number, lane: number): void;
  /** An event was acked (flow control of Pub/Sub). */
  settled?(t: number): void;
}

export interface EngineOptions {
  /** Seconds of arrivals; the run then drains for at most {@link drain} seconds. */
  horizon: number;
  drain: number;
  /** Events appended before this time are not in the latency figures (as the bench's warm-up). */
  warmup: number;
  queue: { maxEvents: number; maxBytes: number; policy: OverflowPolicy };
  pool: { size: number; orderByKey: boolean };
  messageSize: number;
  handler: HandlerModel;
  /** Delay before a nacked event is delivered again (the broker section's nackDelayMs), s. */
  nackDelay: number;
  keyCount: number;
  /**
   * Seconds of Sluice's one event loop per event (delivery, queue, dispatch, ack and the client's
   * own share), charged at each completion; measured (validate-calibrate.ts, `--model
   * loopUsPerEvent=`); 0: free.
   */
  loopCost?: number;
  /** GC pauses stop the loop: the chance per completion and the pauses (s) drawn from; measured. */
  gc?: { perEvent: number; pauses: readonly number[] };
}

export abstract class SinkQueue {
  readonly series = new SeriesRecorder();
  readonly slots = new SlotStore();
  /** Pipeline maxBatchFor: a quarter of the queue, at most 4096. */
  readonly maxBatch: number;
  model!: DeliveryModel;
  now = 0;
  admitted = 0;
  dropped = 0;
  pauses = 0;
  pausedSeconds = 0;
  peakQueueDepth = 0;
  /** Events accepted and not started (BoundedQueue.depth), set-aside ones included. */
  held = 0;
  protected ready = new Int32Array(1024);
  protected readyHead = 0;
  protected readyLength = 0;
  protected pending: { slots: number[]; lane: number } | undefined;
  protected readonly gate: { slots: number[]; lane: number }[] = [];
  protected readonly notify: number[] = [];
  protected pausedSince = 0;
  protected pauseMark = 0;

  constructor(readonly options: EngineOptions) {
    this.maxBatch = Math.max(1, Math.min(4096, Math.floor(options.queue.maxEvents / 4)));
  }

  /** Hands ready events to idle workers (the pool's side). */
  protected abstract dispatch(t: number): void;

  /** Events handed to {@link deliver} and not accepted yet (DeliveryLane's `waiting`). */
  get gateWaiting(): number {
    let waiting = this.pending?.slots.length ?? 0;
    for (const item of this.gate) waiting += item.slots.length;
    return waiting;
  }

  /**
   * The sink: true when the batch was accepted at once (the caller goes on); false when it waits
   * (the queue is full, or another delivery is pending): the model hears {@link DeliveryModel.accepted}.
   */
  deliver(slots: number[], lane: number, t: number): boolean {
    if (this.pending || this.gate.length > 0) {
      this.gate.push({ slots, lane });
      return false;
    }
    return this.offer(slots, lane, t);
  }

  protected offer(slots: number[], lane: number, t: number): boolean {
    const bytes = slots.length * this.options.messageSize;
    if (this.fits(slots.length, bytes)) {
      this.admit(slots, 0, slots.length, t);
      return true;
    }
    const policy = this.options.queue.policy;
    if (policy === 'drop-newest') {
      this.dropNewest(slots, 0, t);
      return true;
    }
    if (policy === 'drop-oldest') {
      this.dropOldest(slots, bytes, t);
      return true;
    }
    this.pending = { slots, lane };
    this.pauses++;
    this.pausedSince = t;
    this.pauseMark = t;
    return false;
  }

  protected fits(count: number, bytes: number): boolean {
    if (this.held === 0) return true;
    const { maxEvents, maxBytes } = this.options.queue;
    return this.held + count <= maxEvents && this.held * this.options.messageSize + bytes <= maxBytes;
  }

  protected admit(slots: number[], from: number, to: number, t: number): void {
    const count = to - from;
    if (this.readyLength + count > this.ready.length) this.growReady(this.readyLength + count);
    const ready = this.ready;
    const mask = ready.length - 1;
    let at = (this.readyHead + this.readyLength) & mask;
    for (let i = from; i < to; i++) {
      ready[at] = slots[i]!;
      at = (at + 1) & mask;
    }
    this.readyLength += count;
    this.held += count;
    this.admitted += count;
    if (this.held > this.peakQueueDepth) this.peakQueueDepth = this.held;
    this.dispatch(t);
  }

  protected dropNewest(slots: number[], from: number, t: number): void {
    // BoundedQueue.admitDroppingNewest: each event is kept while it fits, else dropped.
    const kept: number[] = [];
    for (let i = from; i < slots.length; i++) {
      if (this.fits(kept.length + 1, (kept.length + 1) * this.options.messageSize)) kept.push(slots[i]!);
      else this.drop(slots[i]!);
    }
    if (kept.length > 0) this.admit(kept, 0, kept.length, t);
  }

  protected dropOldest(slots: number[], bytes: number, t: number): void {
    while (!this.fits(slots.length, bytes) && this.readyLength > 0) {
      const oldest = this.shiftReady();
      this.held--;
      this.drop(oldest);
    }
    if (this.fits(slots.length, bytes)) this.admit(slots, 0, slots.length, t);
    else this.dropNewest(slots, 0, t);
  }

  /** The pipeline acks a dropped event (Pipeline onDrop), so it leaves Pub/Sub's flow control too. */
  protected drop(slot: number): void {
    this.dropped++;
    this.series.drop(1);
    this.slots.free(slot);
    this.model.settled?.(this.now);
  }

  protected shiftReady(): number {
    const slot = this.ready[this.readyHead]!;
    this.readyHead = (this.readyHead + 1) & (this.ready.length - 1);
    this.readyLength--;
    return slot;
  }

  protected growReady(needed: number): void {
    let size = this.ready.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Int32Array(size);
    for (let i = 0; i < this.readyLength; i++) bigger[i] = this.ready[(this.readyHead + i) & (this.ready.length - 1)]!;
    this.ready = bigger;
    this.readyHead = 0;
  }

  /** BoundedQueue.admitPending: after a release, the waiting offer goes in if it fits now. */
  protected admitPending(t: number): void {
    const pending = this.pending;
    if (!pending || !this.fits(pending.slots.length, pending.slots.length * this.options.messageSize)) return;
    this.pending = undefined;
    const paused = t - this.pausedSince;
    this.pausedSeconds += paused;
    this.series.paused(t - this.pauseMark);
    this.notify.push(pending.lane);
    this.admit(pending.slots, 0, pending.slots.length, t);
  }

  /** Resolves accepted deliveries (their models go on) and moves the gate, at time t. */
  protected settle(t: number): void {
    for (;;) {
      while (this.notify.length > 0) {
        const lane = this.notify.shift()!;
        if (lane >= 0) this.model.accepted(t, lane);
      }
      if (this.pending || this.gate.length === 0) return;
      const next = this.gate.shift()!;
      if (this.offer(next.slots, next.lane, t)) this.notify.push(next.lane);
    }
  }
}
