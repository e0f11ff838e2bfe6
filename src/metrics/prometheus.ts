import { Counter, Gauge, type Registry } from 'prom-client';
import type { Pipeline } from '../core/pipeline.ts';
import type { Exemplar, FastHistogram } from './fast-histogram.ts';
import { registerSourceMetrics } from './source-metrics.ts';
import { OUTCOMES } from './stats.ts';

/**
 * Exposes a {@link FastHistogram} as a Prometheus histogram. prom-client's registry only needs
 * `name`, `help`, `type` and `get()`; the samples are built at scrape time.
 */
class HistogramView {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly histogram: FastHistogram,
    private readonly labels: Record<string, string>,
  ) {}

  get() {
    const { buckets, counts, exemplars } = this.histogram;
    const values: { value: number; labels: Record<string, string | number>; metricName: string; exemplar?: PromExemplar }[] = [];
    let cumulative = 0;
    for (let i = 0; i < buckets.length; i++) {
      cumulative += counts[i]!;
      values.push({
        value: cumulative,
        labels: { ...this.labels, le: buckets[i]! },
        metricName: `${this.name}_bucket`,
        exemplar: toPromExemplar(exemplars?.[i]),
      });
    }
    values.push({
      value: this.histogram.count,
      labels: { ...this.labels, le: '+Inf' },
      metricName: `${this.name}_bucket`,
      exemplar: toPromExemplar(exemplars?.[buckets.length]),
    });
    values.push({ value: this.histogram.sum, labels: this.labels, metricName: `${this.name}_sum` });
    values.push({ value: this.histogram.count, labels: this.labels, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {}
}

/** prom-client's exemplar shape: rendered only by a registry of the OpenMetrics content type. */
interface PromExemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

function toPromExemplar(exemplar: Exemplar | undefined): PromExemplar | undefined {
  return exemplar && { labelSet: { trace_id: exemplar.traceId }, value: exemplar.value, timestamp: exemplar.timestamp };
}

/**
 * Registers the core's metrics on `registry` (injected: never prom-client's global one), and the
 * source's lag and commits (source-metrics.ts). Values are read from the pipeline when scraped,
 * so the per-event path only bumps plain numbers.
 */
export function registerPipelineMetrics(registry: Registry, pipeline: Pipeline, broker: string): void {
  const labels = { broker };
  const stats = pipeline.stats;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.set(labels, read());
      },
    });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc(labels, read());
      },
    });

  counter('sluice_events_received_total', 'Events delivered by the source into the queue.', () => stats.received);
  new Counter({
    name: 'sluice_events_processed_total',
    help: 'Events finished, by outcome: success, retried (succeeded after a retry), dead_lettered, dropped (lossy queue policy), failed (nacked for redelivery).',
    labelNames: ['broker', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const outcome of OUTCOMES) this.inc({ broker, outcome }, stats.processed[outcome]);
    },
  });
  gauge('sluice_queue_depth', 'Events accepted and not yet started by a worker.', () => pipeline.queue.depth);
  gauge('sluice_queue_capacity', 'Queue capacity in events.', () => pipeline.queue.capacity.events);
  gauge('sluice_queue_bytes', 'Payload bytes waiting in the queue.', () => pipeline.queue.bytes);
  gauge('sluice_queue_capacity_bytes', 'Queue capacity in payload bytes.', () => pipeline.queue.capacity.bytes);
  gauge('sluice_workers_busy', 'Workers inside a handler.', () => pipeline.pool.busy);
  gauge('sluice_workers', 'Workers in the pool (pool.size).', () => pipeline.pool.size);
  gauge('sluice_source_paused', '1 while the source waits for room in the queue (backpressure).', () => (pipeline.paused ? 1 : 0));
  counter('sluice_source_paused_seconds_total', 'Time the source spent paused by a full queue.', () => stats.pausedSeconds);
  gauge('sluice_ready', '1 when connected to the broker and not stalled.', () => (pipeline.health().ready ? 1 : 0));
  registry.registerMetric(
    new HistogramView(
      'sluice_processing_duration_seconds',
      'Handler time per event, first try to final outcome.',
      stats.processingSeconds,
      labels,
    ) as never,
  );
  registry.registerMetric(
    new HistogramView(
      'sluice_end_to_end_latency_seconds',
      'From the broker timestamp of an event to the end of its processing.',
      stats.endToEndSeconds,
      labels,
    ) as never,
  );
  registerSourceMetrics(registry, broker, pipeline.source);
}
