import type { Registry } from 'prom-client';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';

/**
 * The NATS adapter's own series, `sluice_nats_*` (lag and acks are the shared sluice_source_*
 * ones), in the one adapter idiom (src/metrics/broker-metrics.ts): the per-message path bumps
 * plain numbers, read when scraped. One per registry, shared by its sources.
 */
export class NatsMetrics {
  static for(registry: Registry): NatsMetrics {
    return BrokerMetrics.for(registry, 'nats').once('nats', (metrics) => new NatsMetrics(metrics));
  }

  received = 0;
  redelivered = 0;
  naks = 0;
  working = 0;
  maxDeliverDeadLetters = 0;
  /** Per live source: messages read and not yet acked or nacked. */
  readonly outstanding = new Set<() => number>();

  private constructor(metrics: BrokerMetrics) {
    metrics.sampledCounter('received_total', 'Messages received from the consumer, redeliveries included.', () => this.received);
    metrics.sampledCounter('redelivered_total', 'Messages received with a delivery count above 1.', () => this.redelivered);
    metrics.sampledCounter('naks_total', 'Messages nacked (nak with delay: delivered again).', () => this.naks);
    metrics.sampledCounter('working_total', 'In-progress heartbeats for messages Sluice held (each resets ack_wait).', () => this.working);
    metrics.sampledCounter('max_deliver_dead_letters_total', 'Messages past maxDeliver sent to the dead-letter subject.', () => {
      return this.maxDeliverDeadLetters;
    });
    const outstanding = () => [...this.outstanding].reduce((total, read) => total + read(), 0);
    metrics.sampledGauge('outstanding_messages', 'Messages read and not yet acked or nacked.', outstanding);
  }
}
