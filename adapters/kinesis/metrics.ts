import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The adapter's metrics, on the injected registry. Labels: `broker` always, `stream`, and
 * `shard` only on the per-shard lag gauge (removed when the shard is released, so a stream's
 * reshards do not grow the series forever).
 */
export class KinesisMetrics {
  private readonly millisBehind: Gauge<'broker' | 'stream' | 'shard'>;
  private readonly shardsOwned: Gauge<'broker' | 'stream'>;
  private readonly takeovers: Counter<'broker' | 'stream'>;
  private readonly throttles: Counter<'broker' | 'stream' | 'operation'>;
  private readonly iteratorRenewals: Counter<'broker' | 'stream'>;
  private readonly leasesLost: Counter<'broker' | 'stream'>;
  private readonly labels: { broker: string; stream: string };

  constructor(registry: Registry, stream: string) {
    this.labels = { broker: 'kinesis', stream };
    this.millisBehind = metric(
      registry,
      'sluice_kinesis_millis_behind_latest',
      () =>
        new Gauge({
          name: 'sluice_kinesis_millis_behind_latest',
          help: 'MillisBehindLatest of the last read, per owned shard.',
          labelNames: ['broker', 'stream', 'shard'],
          registers: [registry],
        }),
    );
    this.shardsOwned = metric(
      registry,
      'sluice_kinesis_shards_owned',
      () =>
        new Gauge({
          name: 'sluice_kinesis_shards_owned',
          help: 'Shards whose lease this instance holds.',
          labelNames: ['broker', 'stream'],
          registers: [registry],
        }),
    );
    this.takeovers = metric(
      registry,
      'sluice_kinesis_lease_takeovers_total',
      () =>
        new Counter({
          name: 'sluice_kinesis_lease_takeovers_total',
          help: 'Leases taken from another instance (expired or stolen to balance).',
          labelNames: ['broker', 'stream'],
          registers: [registry],
        }),
    );
    this.leasesLost = metric(
      registry,
      'sluice_kinesis_leases_lost_total',
      () =>
        new Counter({
          name: 'sluice_kinesis_leases_lost_total',
          help: 'Leases this instance lost to another (or could not renew in time).',
          labelNames: ['broker', 'stream'],
          registers: [registry],
        }),
    );
    this.throttles = metric(
      registry,
      'sluice_kinesis_throttles_total',
      () =>
        new Counter({
          name: 'sluice_kinesis_throttles_total',
          help: 'Calls refused for throughput limits, by operation.',
          labelNames: ['broker', 'stream', 'operation'],
          registers: [registry],
        }),
    );
    this.iteratorRenewals = metric(
      registry,
      'sluice_kinesis_iterator_renewals_total',
      () =>
        new Counter({
          name: 'sluice_kinesis_iterator_renewals_total',
          help: 'Expired shard iterators replaced.',
          labelNames: ['broker', 'stream'],
          registers: [registry],
        }),
    );
  }

  lag(shard: string, millis: number): void {
    this.millisBehind.set({ ...this.labels, shard }, millis);
  }

  shardReleased(shard: string): void {
    this.millisBehind.remove({ ...this.labels, shard });
  }

  owned(count: number): void {
    this.shardsOwned.set(this.labels, count);
  }

  takeover(): void {
    this.takeovers.inc(this.labels);
  }

  leaseLost(): void {
    this.leasesLost.inc(this.labels);
  }

  throttle(operation: string): void {
    this.throttles.inc({ ...this.labels, operation });
  }

  iteratorRenewed(): void {
    this.iteratorRenewals.inc(this.labels);
  }
}

/** One metric per registry: a second adapter on the same registry (tests, bridging) reuses it. */
function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
