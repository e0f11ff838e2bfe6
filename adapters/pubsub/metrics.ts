import { Counter, Gauge, type Registry } from 'prom-client';
import { FastHistogram } from '../../src/util/fast-histogram.ts';

const ACK_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const ATTEMPT_BUCKETS = [1, 2, 3, 5, 10, 20, 50, 100];

/**
 * The Pub/Sub adapter's own counters (outstanding messages, acks and ack failures are the shared
 * sluice_source_* series: src/metrics/source-metrics.ts). The per-message path bumps plain numbers (and FastHistograms);
 * prom-client reads them when scraped. One instance per registry ({@link PubSubMetrics.for}),
 * shared by every adapter and source on it, so that a restarted source (or a second adapter, as
 * the dead-letter publisher's) does not register the metrics twice or export a stale copy.
 */
export class PubSubMetrics {
  private static readonly byRegistry = new WeakMap<Registry, PubSubMetrics>();

  static for(registry: Registry): PubSubMetrics {
    let metrics = PubSubMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new PubSubMetrics();
      metrics.register(registry, { broker: 'pubsub' });
      PubSubMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
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

  private register(registry: Registry, labels: { broker: string }): void {
    const labelNames = Object.keys(labels);
    const sum = (set: Set<() => number>) => {
      let total = 0;
      for (const read of set) total += read();
      return total;
    };
    const gauge = (name: string, help: string, read: () => number) => {
      if (registry.getSingleMetric(name)) return;
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.set(labels, read());
        },
      });
    };
    const counter = (name: string, help: string, read: () => number) => {
      if (registry.getSingleMetric(name)) return;
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(labels, read());
        },
      });
    };
    gauge('sluice_pubsub_ordering_held_messages', 'Messages held in the adapter behind an earlier message of their ordering key.', () =>
      sum(this.heldBySource),
    );
    counter('sluice_pubsub_received_total', 'Messages received from Pub/Sub (redeliveries included).', () => this.received);
    counter('sluice_pubsub_nacks_total', 'Messages nacked (redelivered by Pub/Sub at once).', () => this.nacks);
    counter(
      'sluice_pubsub_lease_extensions_total',
      'Ack-deadline extensions (modAcks) the client sent for messages Sluice was still processing.',
      () => this.leaseExtensions,
    );
    counter(
      'sluice_pubsub_redeliveries_total',
      'Messages received again: a delivery attempt above 1 (subscriptions with a dead-letter policy), or a copy of a message this source held or had acked lately.',
      () => this.redeliveries,
    );
    const copies = 'sluice_pubsub_copies_suppressed_total';
    if (!registry.getSingleMetric(copies)) {
      new Counter({
        name: copies,
        help: 'Redelivered copies that did not reach the handler: joined (the source still held the message) or acked (it had acked it lately).',
        labelNames: [...labelNames, 'how'],
        registers: [registry],
        collect: () => {
          const metric = registry.getSingleMetric(copies) as Counter;
          metric.reset();
          metric.inc({ ...labels, how: 'joined' }, this.copiesJoined);
          metric.inc({ ...labels, how: 'acked' }, this.copiesAcked);
        },
      });
    }
    counter('sluice_pubsub_stream_errors_total', 'Errors of the StreamingPull stream.', () => this.streamErrors);
    histogram(registry, 'sluice_pubsub_ack_latency_seconds', 'Time from receipt by the client to the ack.', this.ackLatency, labels);
    histogram(
      registry,
      'sluice_pubsub_delivery_attempts',
      'Delivery attempt of received messages (subscriptions with a dead-letter policy).',
      this.deliveryAttempts,
      labels,
    );
  }
}

/** A FastHistogram as a Prometheus histogram, sampled when scraped. */
function histogram(registry: Registry, name: string, help: string, source: FastHistogram, labels: Record<string, string>): void {
  if (registry.getSingleMetric(name)) return;
  const view = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
      let cumulative = 0;
      for (let i = 0; i < source.buckets.length; i++) {
        cumulative += source.counts[i]!;
        values.push({ value: cumulative, labels: { ...labels, le: source.buckets[i]! }, metricName: `${name}_bucket` });
      }
      values.push({ value: source.count, labels: { ...labels, le: '+Inf' }, metricName: `${name}_bucket` });
      values.push({ value: source.sum, labels, metricName: `${name}_sum` });
      values.push({ value: source.count, labels, metricName: `${name}_count` });
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset() {},
  };
  registry.registerMetric(view as never);
}
