import type { Logger } from 'pino';
import { ConfigError } from '../../src/errors.ts';
import type { Sendable } from './clients.ts';
import { LATEST, SHARD_END, TRIM_HORIZON, type InitialPosition, type Lease, type LeaseTable } from './lease.ts';
import { KinesisMetrics } from './metrics.ts';
import { listShards, type ShardInfo } from './shard-lister.ts';

/**
 * Keeps the lease table in step with the stream's shards (the KCL's shard sync):
 *  - a lease for every shard that needs reading, parents before children, each with its
 *    `parentShardId`s so that a child waits until its parents are read to SHARD_END;
 *  - a shard that descends from a leased shard starts at TRIM_HORIZON (everything after its
 *    parents), whatever the consumer's initial position;
 *  - with startFrom LATEST, closed shards with no leased ancestor are not leased at all: their
 *    records are old, and their open descendants start at LATEST;
 *  - the lease of a finished shard (SHARD_END) is removed once the shard is gone from
 *    ListShards (past retention): until then it must stay, or the next sync would lease the
 *    shard again from its start.
 */
export class ShardSync {
  constructor(
    private readonly client: Sendable,
    private readonly table: LeaseTable,
    private readonly stream: string,
    private readonly initial: InitialPosition,
    private readonly logger: Logger,
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
  ) {}

  async sync(signal?: AbortSignal): Promise<void> {
    const shards = await listShards(this.client, this.stream, { signal, metrics: this.metrics });
    const leases = await this.table.list();
    const foreign = leases.find((lease) => lease.streamName !== undefined && lease.streamName !== this.stream);
    if (foreign) {
      throw new ConfigError(
        'broker.kinesis.application',
        `${this.table.description} holds leases of stream ${foreign.streamName}, not ${this.stream}: use another application name or leases.table`,
      );
    }
    const leased = new Map<string, Lease>(leases.map((lease) => [lease.leaseKey, lease]));
    const tracked = new Set(leased.keys());
    const created: string[] = [];
    // Shard ids grow with creation, so parents sort before their children.
    for (const shard of [...shards].sort((a, b) => (a.shardId < b.shardId ? -1 : 1))) {
      if (tracked.has(shard.shardId)) continue;
      const checkpoint = this.initialCheckpoint(shard, tracked);
      if (checkpoint === undefined) continue;
      tracked.add(shard.shardId);
      if (await this.table.create({ leaseKey: shard.shardId, checkpoint, parentShardIds: shard.parentShardIds }, this.stream)) {
        created.push(shard.shardId);
      }
    }
    if (created.length > 0) this.logger.info({ stream: this.stream, shards: created }, 'kinesis: leases created for new shards');
    const listed = new Set(shards.map((shard) => shard.shardId));
    for (const lease of leases) {
      if (lease.checkpoint === SHARD_END && !listed.has(lease.leaseKey)) {
        await this.table.remove(lease.leaseKey);
        this.logger.info({ stream: this.stream, shard: lease.leaseKey }, 'kinesis: lease of an expired finished shard removed');
      }
    }
  }

  private initialCheckpoint(shard: ShardInfo, tracked: ReadonlySet<string>): string | undefined {
    if (shard.parentShardIds.some((parent) => tracked.has(parent))) return TRIM_HORIZON;
    if (this.initial === LATEST && shard.closed) return undefined;
    return this.initial;
  }
}
