// Kinesis smoke test against kinesalite: create a stream, put records, read them back.
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsClientConfig, describeWithBroker, uniqueName } from '../brokers.ts';
import { listShards, putAll, readAll } from './kinesis-records.ts';

describeWithBroker('kinesis', 'kinesis (kinesalite) smoke', (endpoint) => {
  const client = new KinesisClient(awsClientConfig(endpoint));
  const streamName = uniqueName('smoke');

  beforeAll(async () => {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
    await waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 1 }, { StreamName: streamName });
  });

  afterAll(async () => {
    await client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
    client.destroy();
  });

  it('creates an active stream with the shards asked for', async () => {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(await listShards(client, streamName)).toHaveLength(2);
  });

  it('gives back put records with their partition keys, per shard in order', async () => {
    const sent = Array.from({ length: 10 }, (_, i) => ({ partitionKey: `pk-${i % 5}`, data: `record-${i}` }));
    await putAll(client, streamName, sent.slice(0, 9));
    const single = await client.send(
      new PutRecordCommand({ StreamName: streamName, PartitionKey: sent[9]!.partitionKey, Data: Buffer.from(sent[9]!.data) }),
    );
    expect(single.SequenceNumber).toBeTruthy();

    const got = await readAll(client, streamName);
    expect(got.map((r) => ({ partitionKey: r.partitionKey, data: r.data })).sort(byData)).toEqual([...sent].sort(byData));
    // A partition key maps to one shard; within a shard, sequence numbers grow in put order.
    for (const key of new Set(sent.map((s) => s.partitionKey))) {
      const records = got.filter((r) => r.partitionKey === key);
      expect(new Set(records.map((r) => r.shardId)).size).toBe(1);
      const seqs = records.map((r) => BigInt(r.sequenceNumber));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
      expect(records.map((r) => r.data)).toEqual(sent.filter((s) => s.partitionKey === key).map((s) => s.data));
    }
  });
});

const byData = (a: { data: string }, b: { data: string }) => a.data.localeCompare(b.data);
