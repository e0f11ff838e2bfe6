import type { Registry } from 'prom-client';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';

/**
 * The NATS adapter's own series, `sluice_nats_*` (lag and acks are the shared sluice_source_*
 * series), made with the one adapter idiom (src/metrics/broker-metrics.ts): the per-message path
 * bumps plain numbers, prom-client reads them when scraped. One per registry, shared by every
 * source and adapter on it.
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
  consumeErrors = 0;
  /** Messages delivered by the server and not yet settled by this process, per live source. */
  readonly outstanding = new Set<() => number>();

  private constructor(metrics: BrokerMetrics) {
    metrics.sampledCounter('received_total', 'Messages received from the JetStream consumer (redeliveries included).', () => this.received);
    metrics.sampledCounter('redelivered_total', 'Messages received with a delivery count above 1.', () => this.redelivered);
    metrics.sampledCounter('naks_total', 'Messages nacked (nak with delay: the server delivers them again).', () => this.naks);
    metrics.sampledCounter(
      'working_total',
      "In-progress heartbeats sent for messages Sluice still held (each resets the message's ack wait).",
      () => this.working,
    );
    metrics.sampledCounter(
      'max_deliver_dead_letters_total',
      'Messages past broker.nats.maxDeliver published to the dead-letter subject instead of the handler.',
      () => this.maxDeliverDeadLetters,
    );
    metrics.sampledCounter('consume_errors_total', 'Errors and missing-resource notices of the pull consumer.', () => this.consumeErrors);
    metrics.sampledGauge('outstanding_messages', 'Messages delivered by the server and not yet acked or nacked by Sluice.', () => {
      let total = 0;
      for (const read of this.outstanding) total += read();
      return total;
    });
  }
}
