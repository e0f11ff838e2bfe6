import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';
import { FastHistogram } from '../../src/util/fast-histogram.ts';
import type { Registry } from 'prom-client';

const ACK_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const ATTEMPT_BUCKETS = [1, 2, 3, 5, 10, 20, 50, 100];

/**
 * The Pub/Sub adapter's own series, `sluice_pubsub_*` (outstanding messages, acks and ack
 * failures are the shared sluice_source_* series: src/metrics/source-metrics.ts), made with the
 * one adapter idiom (src/metrics/broker-metrics.ts). The per-message path bumps plain numbers (and
 * FastHistograms); prom-client reads them when scraped. One instance per registry
 * ({@link PubSubMetrics.for}), shared by every adapter and source on it.
 */
export class PubSubMetrics {
  static for(registry: Registry): PubSubMetrics {
    return BrokerMetrics.for(registry, 'pubsub').once('pubsub', (metrics) => new PubSubMetrics(metrics));
  }

  /** Events waiting in the ordering gate behind an earlier event of their key. */
  readonly heldBySource = new Set<() => number>();
  received = 0;
  nacks = 0;
  leaseExtensions = 0;
  redeliveries = 0;
  /** Copies of a message the source still held, settled with it. */
  copiesJoined = 0;
  /** Copies of a message the source had acked lately, acked again without processing. */
  copiesAcked = 0;
  streamErrors = 0;
  /** Receipt by the client to Sluice's ack: how long Pub/Sub's lease had to hold the message. */
  readonly ackLatency = new FastHistogram(ACK_LATENCY_BUCKETS);
  /** message.deliveryAttempt, when Pub/Sub reports it (subscriptions with a dead-letter policy). */
  readonly deliveryAttempts = new FastHistogram(ATTEMPT_BUCKETS);

  private constructor(metrics: BrokerMetrics) {
    metrics.sampledGauge('ordering_held_messages', 'Messages held in the adapter behind an earlier message of their ordering key.', () => {
      let total = 0;
      for (const read of this.heldBySource) total += read();
      return total;
    });
    metrics.sampledCounter('received_total', 'Messages received from Pub/Sub (redeliveries included).', () => this.received);
    metrics.sampledCounter('nacks_total', 'Messages nacked (redelivered by Pub/Sub at once).', () => this.nacks);
    metrics.sampledCounter(
      'lease_extensions_total',
      'Ack-deadline extensions (modAcks) the client sent for messages Sluice was still processing.',
      () => this.leaseExtensions,
    );
    metrics.sampledCounter(
      'redeliveries_total',
      'Messages received again: a delivery attempt above 1 (subscriptions with a dead-letter policy), or a copy of a message this source held or had acked lately.',
      () => this.redeliveries,
    );
    metrics.sampledCounter(
      'copies_suppressed_total',
      'Redelivered copies that did not reach the handler: joined (the source still held the message) or acked (it had acked it lately).',
      () => ({ joined: this.copiesJoined, acked: this.copiesAcked }),
      'how',
    );
    metrics.sampledCounter('stream_errors_total', 'Errors of the StreamingPull stream.', () => this.streamErrors);
    metrics.sampledHistogram('ack_latency_seconds', 'Time from receipt by the client to the ack.', this.ackLatency);
    metrics.sampledHistogram(
      'delivery_attempts',
      'Delivery attempt of received messages (subscriptions with a dead-letter policy).',
      this.deliveryAttempts,
    );
  }
}
