// Resharding on kinesalite: a shard is split mid-stream, then its two children are merged.
// A child shard must not be read before every parent was read to its end, processed and
// checkpointed SHARD_END; so for every key, the records of the children come after the
// parent's, and per-key processing order survives the reshard.
import { ListShardsCommand, MergeShardsCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { expect, it } from 'vitest';
import { createKinesisClient } from '../../../adapters/kinesis/clients.ts';
import type { KinesisConfig } from '../../../adapters/kinesis/config.ts';
import { createDynamoClient } from '../../../adapters/kinesis/clients.ts';
import { DynamoLeaseTable } from '../../../adapters/kinesis/lease-table.ts';
import type { EventSink, SourceEvent } from '../../../src/broker/contract.ts';
import { eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

interface Seen {
  n: number;
  key: string;
  shard: string;
  deliveredAt: number;
  ackedAt?: number;
}

/** Acks every event `delayMs` after delivery, and records when it was delivered and acked. */
class SlowAckSink implements EventSink {
  readonly maxBatch = 50;
  readonly capacity = { events: 200, bytes: 1 << 24 };
  readonly seen: Seen[] = [];
  constructor(private readonly delayMs: number) {}
  async deliver(events: SourceEvent[]): Promise<void> {
    const now = performance.now();
    for (const event of events) {
      const seen: Seen = {
        n: (JSON.parse(event.payload.toString()) as { n: number }).n,
        key: event.key!,
        shard: event.position.partition,
        deliveredAt: now,
      };
      this.seen.push(seen);
      setTimeout(() => {
        seen.ackedAt = performance.now();
        event.ack();
      }, this.delayMs);
    }
  }
  discard(): SourceEvent[] {
    return [];
  }
  fatal(error: Error): void {
    throw error;
  }
}

async function shards(config: KinesisConfig): Promise<Shard[]> {
  const client = createKinesisClient(config);
  try {
    return (await client.send(new ListShardsCommand({ StreamName: config.stream }))).Shards ?? [];
  } finally {
    client.destroy();
  }
}

describeWithBroker('kinesis', 'kinesis resharding', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    for (const leases of ['dynamodb', 'file'] as const) {
      it(`reads children only after their parents are processed, split then merge (${leases} leases)`, async () => {
        const { config, cleanup } = await freshStream(
          localConfig(leases === 'dynamodb' ? { kinesis, dynamodb } : { kinesis }, { leases: { shardSyncIntervalMs: 60_000 } }),
          1,
        );
        const adapter = adapterFor(config);
        const source = adapter.createSource();
        const publisher = adapter.createPublisher();
        const admin = adapter.createAdmin();
        const client = createKinesisClient(config);
        try {
          const sink = new SlowAckSink(150);
          await source.start(sink);
          let n = 0;
          const publish = async (count: number) => {
            const batch = Array.from({ length: count }, () => {
              const i = n++;
              return { key: `key-${i % 16}`, payload: Buffer.from(JSON.stringify({ n: i })) };
            });
            await publisher.publish(config.stream, batch);
          };

          await publish(300);
          await eventually(() => sink.seen.length >= 50, 20_000, 'the parent being read');
          const [parent] = await shards(config);
          const start = BigInt(parent!.HashKeyRange!.StartingHashKey!);
          const end = BigInt(parent!.HashKeyRange!.EndingHashKey!);
          await client.send(
            new SplitShardCommand({
              StreamName: config.stream,
              ShardToSplit: parent!.ShardId,
              NewStartingHashKey: String((start + end) / 2n),
            }),
          );
          await admin.waitForStatus(config.stream, 'ACTIVE');
          await publish(300);

          const children = (await shards(config)).filter((shard) => shard.ParentShardId === parent!.ShardId);
          expect(children).toHaveLength(2);
          await eventually(
            () =>
              sink.seen.some((seen) => seen.shard === children[0]!.ShardId) &&
              sink.seen.some((seen) => seen.shard === children[1]!.ShardId),
            30_000,
            'both children being read',
          );
          const [left, right] = [...children].sort((a, b) =>
            BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
          );
          await client.send(
            new MergeShardsCommand({ StreamName: config.stream, ShardToMerge: left!.ShardId, AdjacentShardToMerge: right!.ShardId }),
          );
          await admin.waitForStatus(config.stream, 'ACTIVE');
          await publish(300);
          const merged = (await shards(config)).find((shard) => shard.ParentShardId && shard.AdjacentParentShardId);
          expect(merged).toBeDefined();

          await eventually(
            () => new Set(sink.seen.map((seen) => seen.n)).size === 900 && sink.seen.every((seen) => seen.ackedAt !== undefined),
            60_000,
            'all 900 events processed',
          );

          // Every record of every shard, nothing lost.
          expect(new Set(sink.seen.map((seen) => seen.n)).size).toBe(900);
          // A child was first read only after every record of its parents was processed.
          const generations = [[parent!.ShardId!], children.map((child) => child.ShardId!), [merged!.ShardId!]];
          for (let g = 1; g < generations.length; g++) {
            const parents = sink.seen.filter((seen) => generations[g - 1]!.includes(seen.shard));
            const kids = sink.seen.filter((seen) => generations[g]!.includes(seen.shard));
            expect(kids.length).toBeGreaterThan(0);
            const lastParentAck = Math.max(...parents.map((seen) => seen.ackedAt!));
            const firstChildDelivery = Math.min(...kids.map((seen) => seen.deliveredAt));
            expect(firstChildDelivery, `generation ${g} read before its parents were processed`).toBeGreaterThanOrEqual(lastParentAck);
          }
          // Per key, processing order is publish order across both reshards.
          const byKey = new Map<string, number>();
          for (const seen of [...sink.seen].sort((a, b) => a.ackedAt! - b.ackedAt!)) {
            expect(seen.n, `key ${seen.key}`).toBeGreaterThan(byKey.get(seen.key) ?? -1);
            byKey.set(seen.key, seen.n);
          }
          if (leases === 'dynamodb') {
            const table = new DynamoLeaseTable(createDynamoClient(config), config.application, false);
            const leaseByShard = new Map((await table.list()).map((lease) => [lease.leaseKey, lease]));
            expect(leaseByShard.get(parent!.ShardId!)?.checkpoint).toBe('SHARD_END');
            expect([...(leaseByShard.get(parent!.ShardId!)?.childShardIds ?? [])].sort()).toEqual(
              children.map((child) => child.ShardId).sort(),
            );
            for (const child of children) expect(leaseByShard.get(child.ShardId!)?.checkpoint).toBe('SHARD_END');
            expect([...(leaseByShard.get(merged!.ShardId!)?.parentShardIds ?? [])].sort()).toEqual(
              children.map((child) => child.ShardId).sort(),
            );
          }
        } finally {
          await source.close();
          await publisher.close();
          await admin.close();
          client.destroy();
          await cleanup();
        }
      });
    }
  });
});
