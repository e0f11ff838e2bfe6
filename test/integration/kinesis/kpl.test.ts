// KPL aggregated records: de-aggregation of a hand-built record (magic, protobuf, MD5), then
// end to end through kinesalite: sub-records arrive as events with their own partition keys,
// and the Kinesis record is checkpointed only once all of its sub-records are done.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deaggregate, KPL_MAGIC } from '../../../adapters/kinesis/kpl-deaggregate.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { adapterFor, freshStream, localConfig, sleep } from './helpers.ts';

// A minimal protobuf writer, independent of the decoder under test.
function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 127) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
const field = (number: number, wireType: number) => varint(number * 8 + wireType);
const lengthDelimited = (number: number, bytes: Buffer) => Buffer.concat([field(number, 2), varint(bytes.length), bytes]);
const varintField = (number: number, value: number) => Buffer.concat([field(number, 0), varint(value)]);

interface UserRecord {
  key: string;
  data: string;
  explicitHashKey?: string;
}

/** Builds what the KPL writes: magic + AggregatedRecord + MD5 of the protobuf. */
function aggregate(records: UserRecord[], options: { corruptDigest?: boolean; withTags?: boolean } = {}): Buffer {
  const keys = [...new Set(records.map((record) => record.key))];
  const hashKeys = [...new Set(records.flatMap((record) => (record.explicitHashKey ? [record.explicitHashKey] : [])))];
  const parts: Buffer[] = [];
  for (const key of keys) parts.push(lengthDelimited(1, Buffer.from(key)));
  for (const hashKey of hashKeys) parts.push(lengthDelimited(2, Buffer.from(hashKey)));
  for (const record of records) {
    const inner = [varintField(1, keys.indexOf(record.key))];
    if (record.explicitHashKey) inner.push(varintField(2, hashKeys.indexOf(record.explicitHashKey)));
    inner.push(lengthDelimited(3, Buffer.from(record.data)));
    if (options.withTags)
      inner.push(lengthDelimited(4, Buffer.concat([lengthDelimited(1, Buffer.from('tag')), lengthDelimited(2, Buffer.from('v'))])));
    parts.push(lengthDelimited(3, Buffer.concat(inner)));
  }
  const body = Buffer.concat(parts);
  const digest = createHash('md5').update(body).digest();
  if (options.corruptDigest) digest[0]! ^= 0xff;
  return Buffer.concat([KPL_MAGIC, body, digest]);
}

describe('KPL de-aggregation', () => {
  const records: UserRecord[] = [
    { key: 'user-1', data: 'first' },
    { key: 'user-2', data: 'second', explicitHashKey: '12345' },
    { key: 'user-1', data: 'third' },
    { key: 'user-3', data: '' },
  ];

  it('splits an aggregated record into its user records, in order, with keys and sub-sequence numbers', () => {
    const users = deaggregate(aggregate(records, { withTags: true }))!;
    expect(users.map((user) => ({ key: user.partitionKey, data: user.data.toString(), sub: user.subSequenceNumber }))).toEqual([
      { key: 'user-1', data: 'first', sub: 0 },
      { key: 'user-2', data: 'second', sub: 1 },
      { key: 'user-1', data: 'third', sub: 2 },
      { key: 'user-3', data: '', sub: 3 },
    ]);
    expect(users[1]!.explicitHashKey).toBe('12345');
  });

  it('leaves plain, corrupted and truncated data alone (treated as one plain record)', () => {
    expect(deaggregate(Buffer.from('just a payload'))).toBeUndefined();
    expect(deaggregate(aggregate(records, { corruptDigest: true }))).toBeUndefined();
    const good = aggregate(records);
    expect(deaggregate(good.subarray(0, good.length - 1))).toBeUndefined();
    // Magic and a valid digest over garbage: not a protobuf we can read.
    const garbage = Buffer.from([0x1a, 0xff, 0xff, 0xff]);
    expect(deaggregate(Buffer.concat([KPL_MAGIC, garbage, createHash('md5').update(garbage).digest()]))).toBeUndefined();
  });
});

describeWithBroker('kinesis', 'KPL records through kinesalite', (kinesis) => {
  it('delivers sub-records as events and checkpoints the Kinesis record once all of them are done', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }), 1);
    const adapter = adapterFor(config);
    const publisher = adapter.createPublisher();
    try {
      const users = Array.from({ length: 5 }, (_, i) => ({ key: `user-${i % 2}`, data: `sub-${i}` }));
      await publisher.publish(config.stream, [{ key: 'plain', payload: Buffer.from('plain-before') }]);
      await publisher.publish(config.stream, [{ key: 'agg', payload: aggregate(users) }]);

      const first = adapter.createSource();
      const sink = new CollectingSink(100);
      await first.start(sink);
      await eventually(() => sink.events.length >= 6, 20_000, 'the plain record and five sub-records');
      expect(sink.payloads()).toEqual(['plain-before', 'sub-0', 'sub-1', 'sub-2', 'sub-3', 'sub-4']);
      expect(sink.events.slice(1).map((event) => event.key)).toEqual(['user-0', 'user-1', 'user-0', 'user-1', 'user-0']);
      const aggregated = sink.events.slice(1);
      expect(new Set(aggregated.map((event) => event.position.offset)).size).toBe(1);
      expect(new Set(sink.events.map((event) => event.id)).size).toBe(6);
      // Everything but one sub-record done: the aggregated record must not be checkpointed.
      for (const event of sink.events) if (event.payload.toString() !== 'sub-3') event.ack();
      await sleep(300);
      await first.close();

      const second = adapter.createSource();
      const again = new CollectingSink(100);
      await second.start(again);
      await eventually(() => again.events.length >= 5, 20_000, 'the aggregated record again');
      await sleep(300);
      expect(again.payloads()).toEqual(['sub-0', 'sub-1', 'sub-2', 'sub-3', 'sub-4']);
      for (const event of again.events) event.ack();
      await sleep(300);
      await second.close();

      const third = adapter.createSource();
      const none = new CollectingSink(100);
      await third.start(none);
      await publisher.publish(config.stream, [{ key: 'plain', payload: Buffer.from('plain-after') }]);
      await eventually(() => none.events.length >= 1, 20_000, 'the next record');
      await sleep(300);
      expect(none.payloads()).toEqual(['plain-after']);
      await third.close();
    } finally {
      await publisher.close();
      await cleanup();
    }
  });
});
