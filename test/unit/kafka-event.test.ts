// A KafkaEvent is made as its record arrives, unbound, and bound to its partition's context and
// tracker ticket at delivery (kafka-source-core.ts deliver): what it reports must not depend on
// which client made it, and a redelivery keeps the ticket, so no commit passes a nacked record.
import { describe, expect, it } from 'vitest';
import { KafkaEvent, type PartitionContext } from '../../adapters/kafka/kafka-event.ts';
import { OffsetTracker } from '../../src/source-kit/offset-tracker.ts';

function context(settled: string[]): PartitionContext {
  const progress = new OffsetTracker().partition('orders/3');
  return {
    owner: { acked: (event) => settled.push(`ack ${event.id}`), nacked: (event) => settled.push(`nack ${event.id}`) },
    topic: 'orders',
    partition: 3,
    name: 'orders/3',
    progress,
    generation: 2,
  };
}

describe('KafkaEvent', () => {
  it('reads the same from a kafkajs message (text offset and timestamp) and a @platformatic/kafka one (bigint offset, number timestamp)', () => {
    const settled: string[] = [];
    const partition = context(settled);
    const kafkajs = KafkaEvent.of({
      key: Buffer.from('k1'),
      value: Buffer.from('{"a":1}'),
      offset: '41',
      timestamp: '1795779151537',
      headers: { traceparent: Buffer.from('00-abc'), repeated: [Buffer.from('first'), 'second'] },
    });
    const platformatic = new KafkaEvent(Buffer.from('k1'), Buffer.from('{"a":1}'), 41n, 1795779151537, {
      traceparent: Buffer.from('00-abc'),
      repeated: Buffer.from('first'),
    });
    for (const event of [kafkajs, platformatic]) {
      event.bind(partition, partition.progress.track(event.offset));
      expect(event.key).toBe('k1');
      expect(event.payload.toString()).toBe('{"a":1}');
      expect(event.timestamp).toBe(1795779151537);
      expect(event.headers).toEqual({ traceparent: '00-abc', repeated: 'first' });
      expect(event.id).toBe('orders/3@41');
      expect(event.position).toEqual({ partition: 'orders/3', offset: '41' });
      expect(event.source).toBe('orders');
      expect(event.generation).toBe(2);
      expect(event.attempt).toBe(1);
    }
    expect([kafkajs.ticket, platformatic.ticket]).toEqual([0, 1]);
  });

  it('without a key or value: no key, an empty payload', () => {
    const event = new KafkaEvent(null, null, 7n, 0, undefined);
    expect(event.key).toBeUndefined();
    expect(event.payload.length).toBe(0);
    expect(event.headers).toEqual({});
  });

  it('settles once, through its context; a redelivery is the same record, ticket and context, one attempt later', () => {
    const settled: string[] = [];
    const partition = context(settled);
    const event = new KafkaEvent(Buffer.from('k'), Buffer.from('v'), 5n, 1, undefined);
    event.bind(partition, partition.progress.track(event.offset));
    event.nack(new Error('try again'));
    event.ack(); // the first settlement wins
    const again = event.redelivery();
    expect(again).not.toBe(event);
    expect([again.ticket, again.context, again.attempt, again.id, again.isSettled]).toEqual([
      event.ticket,
      partition,
      2,
      'orders/3@5',
      false,
    ]);
    again.ack();
    expect(settled).toEqual(['nack orders/3@5', 'ack orders/3@5']);
  });
});
