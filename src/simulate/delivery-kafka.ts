// Kafka's delivery (kafkajs binding). Mirrors adapters/kafka/kafka-source.ts (consumer.run with
// eachBatch; kafkajs fetches again only once every batch of the last fetch was delivered) and
// adapters/kafka/kafka-source-core.ts KafkaSourceCore.deliver (each partition's records split into
// parts of at most sink.maxBatch, each awaited through the one DeliveryLane), with the fetch sizes
// of adapters/kafka/config.ts: fetch.maxBytesPerPartition, fetch.maxBytes, fetch.minBytes,
// fetch.maxWaitTimeMs.
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
}

enum State {
  Request,
  Answer,
  Deliver,
}

export class KafkaDelivery implements DeliveryModel {
  nextAt = 0;
  private state = State.Request;
  private deadline = 0;
  private parts: number[][] = [];
  private part = 0;
  private start = 0;

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
      let next = this.deadline;
      for (let p = 0; p < partitions; p++) next = Math.min(next, broker.nextReadable(p, t));
      this.nextAt = Math.max(next, t);
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
    this.state = State.Deliver;
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
    this.nextAt = t + this.params.latency;
  }
}
