// Kafka's delivery (kafkajs binding). Mirrors adapters/kafka/kafka-source.ts (consumer.run with
// eachBatch; kafkajs fetches again only once every batch of the last fetch was delivered) and
// adapters/kafka/kafka-source-core.ts KafkaSourceCore.deliver (each partition's records split into
// parts of at most sink.maxBatch, each awaited through the one DeliveryLane), with the fetch sizes
// of adapters/kafka/config.ts: fetch.maxBytesPerPartition, fetch.maxBytes, fetch.minBytes,
// fetch.maxWaitTimeMs.
// The client's per-fetch loop time is split around the delivery (measured: validate-calibrate.ts):
// the decode holds the loop before the records are delivered, the rest (kafkajs' offsets,
// heartbeat, the next request) after, and the next request leaves when it is done.
// A fetch: the request reaches the broker after `latency`; the broker answers as soon as
// minBytes are readable (or after maxWaitTimeMs), with up to maxBytesPerPartition per partition
// and maxBytes in all; the answer takes `latency` back. Records leave the broker backlog when the
// broker answers (they are then in the client's memory).
// Simplified: one consumer owns every partition (no rebalances); @platformatic/kafka, whose
// stream prefetches while a delivery waits, is modelled the same way (a little pessimistic);
// commits (every commitIntervalMs, up to the contiguous acked offset) do not slow delivery.
import type { DeliveryModel, Engine } from './engine.ts';

export interface KafkaParams {
  /** One-way time between client and broker (s). */
  latency: number;
  maxWait: number;
  minEvents: number;
  perPartition: number;
  perFetch: number;
  /**
   * Loop time (s) the client spends on one fetch answer before its records are delivered,
   * whatever its size (kafkajs: the response's decode and the eachBatch rounds, one long task):
   * measured (validate-calibrate.ts); 0: not modelled (the per-event loop cost then carries it all).
   */
  loopPerFetch: number;
  /**
   * Loop time (s) per fetch after its records were delivered (kafkajs: offsets, heartbeat,
   * building the next request): it holds the loop and delays the next request, not these records.
   */
  loopAfterFetch: number;
}

enum State {
  Request,
  Answer,
  /** The answer is at the client: its decode waits for the loop and holds it. */
  Decode,
  Deliver,
}

export class KafkaDelivery implements DeliveryModel {
  nextAt = 0;
  private state = State.Request;
  private deadline = 0;
  private parts: number[][] = [];
  private part = 0;
  private start = 0;
  /** Fetches answered (a calibration counts them: validate-calibrate.ts). */
  fetches = 0;

  constructor(
    private readonly engine: Engine,
    private readonly params: KafkaParams,
  ) {}

  act(t: number): void {
    if (this.state === State.Request) {
      // The request is at the broker now (nextAt was set to its arrival there).
      this.deadline = t + this.params.maxWait;
      this.state = State.Answer;
    }
    if (this.state === State.Answer) {
      this.answer(t);
      return;
    }
    if (this.state === State.Decode) {
      this.state = State.Deliver;
      const decoded = this.engine.loopTask(t, this.params.loopPerFetch);
      if (decoded > t) {
        this.nextAt = decoded;
        return;
      }
    }
    this.deliverParts(t);
  }

  accepted(t: number): void {
    this.part++;
    this.deliverParts(t);
  }

  private answer(t: number): void {
    const { engine, params } = this;
    const broker = engine.broker;
    broker.appendUntil(t);
    const partitions = broker.partitions.length;
    let readable = 0;
    for (let p = 0; p < partitions && readable < params.minEvents; p++) readable += broker.readable(p, t);
    if (readable < params.minEvents && t < this.deadline) {
      // More records can only come with the next append (every one up to `t` is in): looking
      // at the partitions' next readable record here found the ones already counted, at `t`
      // itself, and looped for ever once fetch.minBytes was more than one record.
      this.nextAt = Math.max(Math.min(this.deadline, broker.upcoming), t);
      return;
    }
    const parts: number[][] = [];
    let budget = params.perFetch;
    // kafkajs hands over the fetched partitions in turn; start each fetch one partition further
    // so that no partition is always last.
    for (let i = 0; i < partitions && budget > 0; i++) {
      const p = (this.start + i) % partitions;
      const count = Math.min(broker.readable(p, t), params.perPartition, budget);
      if (count === 0) continue;
      budget -= count;
      const records = engine.read(p, count);
      for (let from = 0; from < count; from += engine.maxBatch) parts.push(records.slice(from, from + engine.maxBatch));
    }
    this.start = (this.start + 1) % partitions;
    this.parts = parts;
    this.part = 0;
    this.fetches++;
    this.state = State.Decode;
    this.nextAt = t + params.latency;
  }

  private deliverParts(t: number): void {
    const engine = this.engine;
    while (this.part < this.parts.length) {
      if (!engine.deliver(this.parts[this.part]!, 0, t)) {
        this.nextAt = Number.POSITIVE_INFINITY;
        return;
      }
      this.part++;
    }
    this.parts = [];
    this.state = State.Request;
    const sent = this.params.loopAfterFetch > 0 ? this.engine.loopTask(t, this.params.loopAfterFetch) : t;
    this.nextAt = sent + this.params.latency;
  }
}
