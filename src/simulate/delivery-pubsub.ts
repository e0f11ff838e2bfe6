// Pub/Sub's delivery (streaming pull). Mirrors adapters/pubsub (pubsub-source.ts, flow-lease.ts,
// ready-lane.ts): flow control (flowControlFor: maxMessages = queue.maxEvents + maxBatch + flowControl.inFlight unless set,
// maxBytes scaled alike; the client holds at most that many unacked messages, dropped and
// finished events release theirs when acked), `streams` StreamingPull streams, and
// ReadyLane (messages that arrived while a delivery was pending go as the next batch of at
// most sink.maxBatch, one delivery at a time).
// The stream rate: one StreamingPull stream delivers about 2,000 messages/s from the emulator
// (adapters/pubsub/config.ts `streams`, adapters/pubsub/README.md), so `streams` × that rate caps
// delivery, as a token bucket holding 100 ms of it (`--model pubsubStreamRate=` for the cloud).
// A message reaches the client `latency` after it was published.
// Simplified: one subscriber; no ordering gate (pool.orderByKey is modelled in the pool); a
// nacked message comes back after nackDelay through the engine rather than from the server.
import type { DeliveryModel, Engine } from './engine.ts';

export interface PubSubParams {
  maxMessages: number;
  maxBytes: number;
  /** Messages per second of all streams together. */
  rate: number;
  latency: number;
  messageSize: number;
}

export class PubSubDelivery implements DeliveryModel {
  nextAt = 0;
  private outstanding = 0;
  private tokens: number;
  private tokensAt = 0;
  private ready: number[] = [];
  private delivering = false;
  private waitingForRoom = false;
  private readonly capacity: number;
  private readonly maxOutstanding: number;

  constructor(
    private readonly engine: Engine,
    private readonly params: PubSubParams,
  ) {
    this.capacity = Math.max(1, params.rate * 0.1);
    this.tokens = this.capacity;
    this.maxOutstanding = Math.max(1, Math.min(params.maxMessages, Math.floor(params.maxBytes / params.messageSize)));
  }

  act(t: number): void {
    const { engine, params } = this;
    const broker = engine.broker;
    // What was published by t - latency has reached the client (1 ns of slack: t was computed as
    // publish time + latency, and subtracting it again may land just before the publish time).
    const seen = t - params.latency + 1e-9;
    broker.appendUntil(seen);
    this.tokens = Math.min(this.capacity, this.tokens + (t - this.tokensAt) * params.rate);
    this.tokensAt = t;
    const readable = broker.readable(0, seen);
    const room = this.maxOutstanding - this.outstanding;
    const count = Math.min(Math.floor(this.tokens + 1e-9), readable, room);
    if (count > 0) {
      const records = engine.read(0, count);
      for (let i = 0; i < count; i++) this.ready.push(records[i]!);
      this.tokens -= count;
      this.outstanding += count;
    }
    this.waitingForRoom = false;
    if (readable > count) {
      if (this.outstanding >= this.maxOutstanding) {
        this.waitingForRoom = true;
        this.nextAt = Number.POSITIVE_INFINITY;
      } else {
        // Wait for a millisecond's worth of messages (a pull response), not one at a time.
        const want = Math.min(readable - count, Math.max(1, params.rate / 1000));
        this.nextAt = t + Math.max(1e-9, (want - this.tokens) / params.rate);
      }
    } else {
      this.nextAt = broker.nextReadable(0, seen) + params.latency;
    }
    if (!this.delivering) this.pump(t);
  }

  accepted(t: number): void {
    this.delivering = false;
    this.pump(t);
  }

  settled(t: number): void {
    this.outstanding--;
    if (this.waitingForRoom) {
      this.waitingForRoom = false;
      this.nextAt = t;
    }
  }

  private pump(t: number): void {
    const engine = this.engine;
    while (this.ready.length > 0) {
      const batch = this.ready.length <= engine.maxBatch ? this.ready : this.ready.slice(0, engine.maxBatch);
      this.ready = batch === this.ready ? [] : this.ready.slice(engine.maxBatch);
      if (!engine.deliver(batch, 0, t)) {
        this.delivering = true;
        return;
      }
    }
  }
}
