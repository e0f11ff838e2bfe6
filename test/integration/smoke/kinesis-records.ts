// Shared by the two Kinesis smoke tests (kinesalite and kinesis-mock).
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { expect } from 'vitest';

export interface ReadRecord {
  shardId: string;
  partitionKey: string;
  data: string;
  sequenceNumber: string;
}

export async function listShards(client: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

/** Puts `records` in one PutRecords call and checks that none was rejected. */
export async function putAll(client: KinesisClient, streamName: string, records: { partitionKey: string; data: string }[]): Promise<void> {
  const out = await client.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: Buffer.from(r.data) })),
    }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
  expect(out.Records).toHaveLength(records.length);
}

/** Reads every shard from TRIM_HORIZON until it returns no more records. */
export async function readAll(client: KinesisClient, streamName: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for (const shard of await listShards(client, streamName)) {
    let iterator = (
      await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    // Bounded: a handful of pages is plenty for a smoke test; an empty page means caught up.
    for (let page = 0; iterator && page < 20; page++) {
      const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const r of res.Records ?? []) {
        out.push({
          shardId: shard.ShardId!,
          partitionKey: r.PartitionKey!,
          data: Buffer.from(r.Data!).toString(),
          sequenceNumber: r.SequenceNumber!,
        });
      }
      if ((res.Records ?? []).length === 0 || res.MillisBehindLatest === 0) break;
      iterator = res.NextShardIterator;
    }
  }
  return out;
}
