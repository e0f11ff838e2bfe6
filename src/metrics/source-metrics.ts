import { Counter, Gauge, type Registry } from 'prom-client';
import type { PartitionLag, Source } from '../broker/contract.ts';

/**
 * Commits a source made, and failed to make, by source name (topic, stream, subscription). Plain
 * numbers the adapter bumps; read when scraped. What counts as one commit is the broker's unit:
 * an offset commit (Kafka, memory), a checkpoint write (Kinesis), an ack (Pub/Sub).
 */
export class CommitCounts {
  readonly committed = new Map<string, number>();
  readonly failed = new Map<string, number>();

  /** Makes both series of `source` exist at 0 before the first commit, as Prometheus likes counters. */
  declare(source: string): void {
    if (!this.committed.has(source)) this.committed.set(source, 0);
    if (!this.failed.has(source)) this.failed.set(source, 0);
  }

  commit(source: string, count = 1): void {
    this.committed.set(source, (this.committed.get(source) ?? 0) + count);
  }

  fail(source: string, count = 1): void {
    this.failed.set(source, (this.failed.get(source) ?? 0) + count);
  }
}

/** Seconds from `oldestMs` to `now`; 0 when nothing waits (or clocks disagree). */
export function lagSeconds(lag: PartitionLag, now: number): number {
  return lag.oldestMs === undefined ? 0 : Math.max(0, now - lag.oldestMs) / 1000;
}

/**
 * The lag vocabulary every adapter exports (one meaning across brokers, so an autoscaler or an
 * alert needs no per-broker query): `sluice_source_lag_events`, `sluice_source_lag_seconds`,
 * `sluice_source_commits_total`, `sluice_source_commit_errors_total`. Registered once per
 * pipeline by the composition root on the injected registry; the adapter only supplies numbers
 * through {@link Source.lag} and {@link Source.commits}, read when scraped (the per-event path
 * does no metrics work for them).
 */
export function registerSourceMetrics(
  registry: Registry,
  broker: string,
  source: Pick<Source, 'lag' | 'commits'>,
  now: () => number = Date.now,
): void {
  const labelNames = ['broker', 'source', 'partition'] as const;
  new Gauge({
    name: 'sluice_source_lag_events',
    help: 'Events of the partition not yet committed by this instance: read and not finished, finished and not yet committed, and (where the broker tells) not yet read. Per broker: see the README.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const lag of source.lag()) this.set({ broker, source: lag.source, partition: lag.partition }, lag.events);
    },
  });
  new Gauge({
    name: 'sluice_source_lag_seconds',
    help: 'Age of the oldest event of the partition that Sluice has not finished (acked), by its broker timestamp; 0 when none waits. Per broker: see the README.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      const at = now();
      for (const lag of source.lag()) this.set({ broker, source: lag.source, partition: lag.partition }, lagSeconds(lag, at));
    },
  });
  const counter = (name: string, help: string, read: () => ReadonlyMap<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['broker', 'source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [name, count] of read()) this.inc({ broker, source: name }, count);
      },
    });
  counter(
    'sluice_source_commits_total',
    'Commits confirmed by the broker: offset commits (Kafka, memory), checkpoints (Kinesis), acks (Pub/Sub).',
    () => source.commits.committed,
  );
  counter(
    'sluice_source_commit_errors_total',
    'Commits that failed: offset commits and checkpoints that failed or were refused, leases lost (Kinesis), acks the server rejected (Pub/Sub exactly-once).',
    () => source.commits.failed,
  );
}
