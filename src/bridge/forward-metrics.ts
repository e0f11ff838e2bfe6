import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The forward handler's own metrics, on the injected registry (the core's counters already count
 * the source events: processed, retried, dead-lettered). Labelled by the destination broker only:
 * destinations may be named per event ({key}), which would make a label without bound.
 */
export class ForwardMetrics {
  private readonly events: Counter<'broker' | 'outcome'>;
  private readonly batchSize: Histogram<'broker'>;
  private readonly publishSeconds: Histogram<'broker'>;

  constructor(
    registry: Registry,
    private readonly broker: string,
  ) {
    this.events =
      existing(registry, 'sluice_forward_events_total') ??
      new Counter({
        name: 'sluice_forward_events_total',
        help: 'Events the forward handler published: confirmed by the destination broker, or in a batch that failed.',
        labelNames: ['broker', 'outcome'],
        registers: [registry],
      });
    this.batchSize =
      existing(registry, 'sluice_forward_batch_events') ??
      new Histogram({
        name: 'sluice_forward_batch_events',
        help: 'Events per publish of the forward handler.',
        labelNames: ['broker'],
        buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        registers: [registry],
      });
    this.publishSeconds =
      existing(registry, 'sluice_forward_publish_duration_seconds') ??
      new Histogram({
        name: 'sluice_forward_publish_duration_seconds',
        help: "Time from a forward batch's publish to the destination broker's confirmation (or failure).",
        labelNames: ['broker'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });
  }

  /** One publish of `count` events that took `seconds`. */
  published(count: number, seconds: number, ok: boolean): void {
    this.events.inc({ broker: this.broker, outcome: ok ? 'published' : 'failed' }, count);
    this.batchSize.observe({ broker: this.broker }, count);
    this.publishSeconds.observe({ broker: this.broker }, seconds);
  }
}

/** A metric already on the registry (a second forwarder of the same process, tests): prom-client refuses a name twice. */
function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}
