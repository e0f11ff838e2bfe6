/**
 * Kinesis's benchmark hooks (src/broker/tooling.ts, BenchHooks), for `npm run bench:kinesis`: a
 * bare polling loop per shard (GetShardIterator TRIM_HORIZON, then GetRecords with the Limit
 * Sluice's source would use, nothing else: no leases, no checkpoints, records dropped).
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { BareReader, BareReadOptions, BenchHooks } from '../../src/broker/tooling.ts';
import { maxBatchFor } from '../../src/core/pipeline.ts';
import { sleep } from '../../src/util/sleep.ts';
import { createKinesisClient } from './clients.ts';
import type { KinesisConfig } from './config.ts';

/**
 * One loop per shard, fetches at least `fetchSpacingMs` apart (default: the poll interval, the
 * pace Sluice keeps; Kinesis allows 5 calls per second per shard), until every shard is caught up.
 */
async function bareReader(cfg: KinesisConfig, options: BareReadOptions): Promise<BareReader> {
  const client = createKinesisClient(cfg);
  const limit = Math.min(cfg.consumer.maxRecords, maxBatchFor(options.queue.maxEvents));
  const spacingMs = options.fetchSpacingMs ?? cfg.consumer.pollIntervalMs;
  const { onRead, onMessage } = options;
  let stopped = false;
  const readShard = async (shardId: string | undefined) => {
    const start = new GetShardIteratorCommand({ StreamName: cfg.stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' });
    let iterator = (await client.send(start)).ShardIterator;
    let lastCall = 0;
    while (iterator && !stopped) {
      const wait = lastCall + spacingMs - performance.now();
      if (wait > 0) await sleep(wait);
      lastCall = performance.now();
      const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      const records = result.Records ?? [];
      if (records.length > 0) {
        if (onMessage) {
          for (const record of records)
            onMessage({
              id: record.SequenceNumber ?? '',
              payload: Buffer.from(record.Data ?? []),
              timestamp: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
            });
        }
        onRead(records.length);
      } else if (result.MillisBehindLatest === 0) {
        break;
      }
      iterator = result.NextShardIterator;
    }
  };
  const ended = (async () => {
    try {
      const shards = (await client.send(new ListShardsCommand({ StreamName: cfg.stream }))).Shards ?? [];
      await Promise.all(shards.map((shard) => readShard(shard.ShardId)));
    } finally {
      client.destroy();
    }
  })();
  return {
    description: `GetRecords Limit ${limit}, calls ${spacingMs} ms apart per shard`,
    ended,
    stop: async () => {
      stopped = true;
      await ended.catch(() => undefined);
    },
  };
}

export const benchHooks: BenchHooks = { bareReader };
