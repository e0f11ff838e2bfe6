// Kinesis lag from what a shard consumer knows: records read since the last checkpoint, and the
// older of the oldest unprocessed record and the next unread one as MillisBehindLatest places it.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KinesisMetrics } from '../../adapters/kinesis/metrics.ts';
import { ShardConsumer } from '../../adapters/kinesis/shard-consumer.ts';
import { ReaderAborted, type ShardBatch, type ShardReader } from '../../adapters/kinesis/shard-reader.ts';
import { DeliveryLane, PartitionProgress } from '../../src/source-kit/index.ts';
import { CollectingSink, eventually } from '../contract/universal-suite.ts';

/** Hands out the given batches, then waits until closed. */
function scriptedReader(batches: ShardBatch[]): ShardReader {
  let close!: () => void;
  const closed = new Promise<never>((_, reject) => (close = () => reject(new ReaderAborted())));
  closed.catch(() => undefined);
  return {
    next: async () => batches.shift() ?? closed,
    close: () => close(),
  };
}

const record = (sequence: number, arrived: number) => ({
  SequenceNumber: String(sequence),
  PartitionKey: 'k',
  Data: Buffer.from(String(sequence)),
  ApproximateArrivalTimestamp: new Date(arrived),
});

/** A started consumer of shard `shardId-0` of stream `s`, delivering into a collecting sink. */
function reading(batches: ShardBatch[]) {
  const sink = new CollectingSink(10);
  const consumer = new ShardConsumer('shardId-0', new PartitionProgress('shardId-0'), () => scriptedReader(batches), {
    stream: 's',
    metrics: KinesisMetrics.unregistered('s'),
    lane: new DeliveryLane(sink),
    maxRecords: 10,
    deaggregate: false,
    logger: pino({ level: 'silent' }),
    nacked: () => undefined,
    shardEnded: async () => undefined,
    consumerFailed: () => undefined,
  });
  consumer.start();
  return { sink, consumer };
}

describe('kinesis shard lag', () => {
  it('counts records read since the checkpoint, and ages by MillisBehindLatest while behind the tip', async () => {
    const now = Date.now();
    const batches: ShardBatch[] = [
      { records: [record(1, now - 2_000), record(2, now - 1_500)], millisBehindLatest: 60_000, end: false, childShardIds: [] },
    ];
    const { sink, consumer } = reading(batches);
    try {
      await eventually(() => consumer.lag().events === 2, 5_000, 'two records read');
      // 60 s behind the tip: the next unread record is older than those read 2 s ago.
      let lag = consumer.lag();
      expect(lag).toMatchObject({ source: 's', partition: 'shardId-0', events: 2 });
      expect(Date.now() - lag.oldestMs!).toBeGreaterThanOrEqual(60_000);

      for (const event of sink.events) event.ack();
      consumer.writtenCount = consumer.progress.completed; // as the checkpointer does once written
      lag = consumer.lag();
      expect(lag.events).toBe(0);
      expect(Date.now() - lag.oldestMs!).toBeGreaterThanOrEqual(60_000); // still behind the tip
    } finally {
      await consumer.stop();
    }
  });

  it('reports the oldest unprocessed record when at the tip, and nothing once processed', async () => {
    const now = Date.now();
    const batches: ShardBatch[] = [
      { records: [record(1, now - 3_000), record(2, now - 1_000)], millisBehindLatest: 0, end: false, childShardIds: [] },
    ];
    const { sink, consumer } = reading(batches);
    try {
      await eventually(() => sink.events.length === 2, 5_000, 'two records delivered');
      expect(consumer.lag().oldestMs).toBe(now - 3_000);
      sink.events[0]!.ack();
      expect(consumer.lag().oldestMs).toBe(now - 1_000);
      sink.events[1]!.ack();
      expect(consumer.lag().oldestMs).toBeUndefined();
    } finally {
      await consumer.stop();
    }
  });
});
