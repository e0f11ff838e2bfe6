import type { Registry } from 'prom-client';
import type { Pipeline } from '../core/pipeline.ts';
import { HistogramView, sampledCounter, sampledGauge } from './sampled.ts';
import { registerSourceMetrics } from './source-metrics.ts';

/**
 * Registers the core's metrics on `registry` (injected: never prom-client's global one), and the
 * source's lag and commits (source-metrics.ts). Values are read from the pipeline when scraped,
 * so the per-event path only bumps plain numbers.
 */
export function registerPipelineMetrics(registry: Registry, pipeline: Pipeline, broker: string): void {
  const labels = { broker };
  const stats = pipeline.stats;
  const gauge = (name: string, help: string, read: () => number) => sampledGauge(registry, name, help, labels, read);
  const counter = (name: string, help: string, read: () => number) => sampledCounter(registry, name, help, labels, read);

  counter('sluice_events_received_total', 'Events delivered by the source into the queue.', () => stats.received);
  // Every outcome of OUTCOMES is a key of stats.processed: each is a series from the start.
  sampledCounter(
    registry,
    'sluice_events_processed_total',
    'Events finished, by outcome: success, retried (succeeded after a retry), dead_lettered, dropped (lossy queue policy), failed (nacked for redelivery).',
    labels,
    () => stats.processed,
    'outcome',
  );
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
