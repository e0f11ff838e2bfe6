// A nacked Kinesis record stays ahead of the later records of its shard and partition key
// (features.nackKeepsKeyOrder): the shard consumer, the kit's lane and Redelivery with the
// adapter's SHARD_KEY_ORDER, as kinesis-source.ts wires them; a queueing sink stands in for the
// core's queue (waiting = not started by a worker).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { type KinesisEvent, SHARD_KEY_ORDER } from '../../adapters/kinesis/kinesis-event.ts';
import { KinesisMetrics } from '../../adapters/kinesis/metrics.ts';
import { ShardConsumer } from '../../adapters/kinesis/shard-consumer.ts';
import { ReaderAborted, type ShardBatch, type ShardReader } from '../../adapters/kinesis/shard-reader.ts';
import { DeliveryLane, PartitionProgress, Redelivery } from '../../src/source-kit/index.ts';
import { QueueingSink, eventually } from '../contract/universal-suite.ts';

const record = (sequence: number, key: string) => ({
  SequenceNumber: String(sequence),
  PartitionKey: key,
  Data: Buffer.from(String(sequence)),
  ApproximateArrivalTimestamp: new Date(),
});

const batch = (...records: ReturnType<typeof record>[]): ShardBatch => ({ records, millisBehindLatest: 0, end: false, childShardIds: [] });

/** Hands out a batch each time the test releases one, then waits until closed. */
function steppedReader() {
  const batches: ShardBatch[] = [];
  let wake: (() => void) | undefined;
  let close!: () => void;
  const closed = new Promise<never>((_, reject) => (close = () => reject(new ReaderAborted())));
  closed.catch(() => undefined);
  const reader: ShardReader = {
    next: async () => {
      while (batches.length === 0) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), closed]);
      return batches.shift()!;
    },
    close: () => close(),
  };
  return {
    reader,
    push: (next: ShardBatch) => {
      batches.push(next);
      wake?.();
    },
  };
}

function reading() {
  const sink = new QueueingSink(10);
  const lane = new DeliveryLane(sink);
  const { reader, push } = steppedReader();
  const redelivery = new Redelivery<KinesisEvent>({
    delayMs: 50,
    wanted: (event) => event.consumer.reading,
    lane,
    keyOrder: SHARD_KEY_ORDER,
  });
  const consumer = new ShardConsumer('shardId-0', new PartitionProgress('shardId-0'), () => reader, {
    stream: 's',
    metrics: KinesisMetrics.unregistered('s'),
    lane,
    maxRecords: 10,
    deaggregate: false,
    logger: pino({ level: 'silent' }),
    nacked: (event) => redelivery.nacked(event),
    admit: (events) => redelivery.admit(events),
    shardEnded: async () => undefined,
    consumerFailed: () => undefined,
  });
  consumer.start();
  return { sink, consumer, push, redelivery };
}

const seq = (event: SourceEvent) => Number((event as KinesisEvent).sequenceNumber);

/** A worker starting the waiting event `n` and settling it. */
function settle(sink: QueueingSink, n: number, how: 'ack' | 'nack'): void {
  const at = sink.waiting.findIndex((event) => seq(event) === n);
  expect(at, `event ${n} waiting`).toBeGreaterThanOrEqual(0);
  const [event] = sink.waiting.splice(at, 1);
  event![how]();
}

describe('kinesis nack keeps the key order', () => {
  it('takes back the later records of the key, holds those read meanwhile, and delivers all after the nacked one', async () => {
    const { sink, consumer, push, redelivery } = reading();
    try {
      push(batch(record(1, 'k'), record(2, 'k'), record(3, 'other'), record(4, 'k')));
      await eventually(() => sink.waiting.length === 4, 5_000, 'the first batch');
      settle(sink, 1, 'nack');
      // 2 and 4 (key k, not started) are taken back; 3 (another key) stays.
      expect(sink.discarded.map(seq)).toEqual([2, 4]);
      expect(sink.waiting.map(seq)).toEqual([3]);
      // Read while 1 waits for its delay: 5 (key k) is held, 6 goes on.
      push(batch(record(5, 'k'), record(6, 'other')));
      await eventually(() => sink.waiting.some((event) => seq(event) === 6), 5_000, 'the second batch');
      expect(sink.waiting.map(seq)).toEqual([3, 6]);
      expect(redelivery.held).toBeGreaterThan(0);
      // After the delay: 1 again (attempt 2), then 2, 4, 5 in their order, unsettled.
      await eventually(() => sink.waiting.length === 6, 5_000, 'the redelivery');
      const again = sink.waiting.slice(2) as KinesisEvent[];
      expect(again.map(seq)).toEqual([1, 2, 4, 5]);
      expect(again.map((event) => event.attempt)).toEqual([2, 1, 1, 1]);
      sink.ackWaiting();
      // Every record acked: the checkpoint reaches the last one.
      expect(consumer.progress.committable).toBe('6');
      expect(redelivery.held).toBe(0);
    } finally {
      await consumer.stop();
    }
  });

  it('drops what it held for a shard no longer read', async () => {
    const { sink, consumer, push, redelivery } = reading();
    push(batch(record(1, 'k'), record(2, 'k')));
    await eventually(() => sink.waiting.length === 2, 5_000, 'the batch');
    settle(sink, 1, 'nack');
    expect(sink.discarded.map(seq)).toEqual([2]);
    consumer.released = true; // the lease was lost
    await consumer.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await redelivery.drained();
    expect(sink.waiting).toEqual([]);
    expect(redelivery.held).toBe(0);
  });
});
