// Kinesis smoke test against kinesis-mock (npm kinesis-local), the server used for what
// kinesalite lacks: resharding with UpdateShardCount and enhanced fan-out consumers.
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  RegisterStreamConsumerCommand,
  UpdateShardCountCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsClientConfig, describeWithBroker, uniqueName } from '../brokers.ts';
import { eventually } from '../wait.ts';
import { listShards, putAll, readAll } from './kinesis-records.ts';

describeWithBroker('kinesis-mock', 'kinesis-mock smoke', (endpoint) => {
  const client = new KinesisClient(awsClientConfig(endpoint));
  const streamName = uniqueName('smoke');
  let streamArn: string;

  beforeAll(async () => {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
    await waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 1 }, { StreamName: streamName });
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    streamArn = summary.StreamDescriptionSummary!.StreamARN!;
  });

  afterAll(async () => {
    await client.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true })).catch(() => undefined);
    client.destroy();
  });

  it('gives back put records with their partition keys', async () => {
    const sent = Array.from({ length: 6 }, (_, i) => ({ partitionKey: `pk-${i % 3}`, data: `before-${i}` }));
    await putAll(client, streamName, sent);
    const got = await readAll(client, streamName);
    expect(got.map((r) => ({ partitionKey: r.partitionKey, data: r.data }))).toEqual(sent);
  });

  it('reshards with UpdateShardCount and keeps taking records', async () => {
    const out = await client.send(
      new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' }),
    );
    expect(out.TargetShardCount).toBe(2);
    await eventually(
      async () => {
        const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
        return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE' ? true : undefined;
      },
      30_000,
      'stream ACTIVE again after UpdateShardCount',
    );
    const shards = await listShards(client, streamName);
    const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
    const closed = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber !== undefined);
    expect(open).toHaveLength(2);
    expect(closed.length).toBeGreaterThanOrEqual(1);
    // Children name their parent: what a consumer needs to finish a parent before its children.
    const closedIds = new Set(closed.map((s) => s.ShardId));
    for (const child of open) expect(closedIds.has(child.ParentShardId)).toBe(true);

    const after = Array.from({ length: 6 }, (_, i) => ({ partitionKey: `pk-${i}`, data: `after-${i}` }));
    await putAll(client, streamName, after);
    const got = await readAll(client, streamName);
    const afterGot = got.filter((r) => r.data.startsWith('after-'));
    expect(afterGot.map((r) => r.data).sort()).toEqual(after.map((r) => r.data).sort());
    expect(afterGot.every((r) => !closedIds.has(r.shardId))).toBe(true);
  });

  it('registers an enhanced fan-out consumer', async () => {
    const consumerName = uniqueName('efo');
    await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }));
    const status = await eventually(
      async () => {
        const d = await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }));
        return d.ConsumerDescription?.ConsumerStatus === 'ACTIVE' ? 'ACTIVE' : undefined;
      },
      30_000,
      'consumer ACTIVE',
    );
    expect(status).toBe('ACTIVE');
  });
});
