import type { Counter, Gauge } from 'prom-client';
import { Registry } from 'prom-client';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';

/** The calls Kinesis may refuse for throughput limits: each has its throttle series from the start. */
const OPERATIONS = ['GetRecords', 'GetShardIterator', 'ListShards', 'PutRecords', 'SubscribeToShard'] as const;
type Operation = (typeof OPERATIONS)[number];

/**
 * The adapter's series, `sluice_kinesis_*`, made with the one adapter idiom
 * (src/metrics/broker-metrics.ts) on the injected registry. Labels: `broker` always, `stream`,
 * and `shard` only on the per-shard lag gauge (removed when the shard is released, so a stream's
 * reshards do not grow the series forever). Every other series of the stream exists, at 0, from
 * the moment the adapter is built.
 */
export class KinesisMetrics {
  private readonly millisBehind: Gauge<'broker' | 'stream' | 'shard'>;
  private readonly shardsOwned: Gauge<'broker' | 'stream'>;
  private readonly takeovers: Counter<'broker' | 'stream'>;
  private readonly throttles: Counter<'broker' | 'stream' | 'operation'>;
  private readonly iteratorRenewals: Counter<'broker' | 'stream'>;
  private readonly leasesLost: Counter<'broker' | 'stream'>;
  private readonly labels: { broker: string; stream: string };

  /**
   * Series on a registry nobody scrapes: for the parts of the adapter a test builds alone, so
   * that none of them needs an optional metrics object.
   */
  static unregistered(stream = ''): KinesisMetrics {
    return new KinesisMetrics(new Registry(), stream);
  }

  constructor(registry: Registry, stream: string) {
    const metrics = BrokerMetrics.for(registry, 'kinesis');
    this.labels = { ...metrics.labels, stream };
    this.millisBehind = metrics.gauge('millis_behind_latest', 'MillisBehindLatest of the last read, per owned shard.', ['stream', 'shard']);
    this.shardsOwned = metrics.gauge('shards_owned', 'Shards whose lease this instance holds.', ['stream']);
    this.takeovers = metrics.counter('lease_takeovers_total', 'Leases taken from another instance (expired or stolen to balance).', [
      'stream',
    ]);
    this.leasesLost = metrics.counter('leases_lost_total', 'Leases this instance lost to another (or could not renew in time).', [
      'stream',
    ]);
    this.throttles = metrics.counter('throttles_total', 'Calls refused for throughput limits, by operation.', ['stream', 'operation']);
    this.iteratorRenewals = metrics.counter('iterator_renewals_total', 'Expired shard iterators replaced.', ['stream']);
    this.shardsOwned.set(this.labels, 0);
    for (const counter of [this.takeovers, this.leasesLost, this.iteratorRenewals]) counter.inc(this.labels, 0);
    for (const operation of OPERATIONS) this.throttles.inc({ ...this.labels, operation }, 0);
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

  throttle(operation: Operation): void {
    this.throttles.inc({ ...this.labels, operation });
  }

  iteratorRenewed(): void {
    this.iteratorRenewals.inc(this.labels);
  }
}
