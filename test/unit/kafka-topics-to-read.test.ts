// Which topics a Kafka source reads by topicPattern: Sluice's own dead-letter destinations (as
// deadLetter.destination names them) are left out, so it never reads its dead letters back, and
// every other matching topic is read, one that merely ends in `.dlq` included.
import { describe, expect, it } from 'vitest';
import { topicsToRead } from '../../adapters/kafka/topics-to-read.ts';
import { configSchema, type SluiceConfig } from '../../src/config/schema.ts';
import { deadLetterTopicsOf } from '../../src/dead-letter/dead-letter-topics.ts';
import { destinationPattern } from '../../src/util/destination-pattern.ts';

const existing = ['orders', 'orders.dlq', 'dead-orders', 'dead-', 'payments', 'all-dead', '__consumer_offsets'];
const read = (deadLetter: Record<string, unknown>, broker = 'kafka') => {
  const config = configSchema.parse({ broker: { type: broker }, deadLetter }) as SluiceConfig;
  return topicsToRead({ brokers: ['b:9092'], topicPattern: '.*' }, existing, deadLetterTopicsOf(config));
};

describe('topicsToRead with topicPattern', () => {
  it('leaves out the default dead-letter destinations ({source}.dlq) and internal topics', () => {
    expect(read({ type: 'broker' })).toEqual(['all-dead', 'dead-', 'dead-orders', 'orders', 'payments']);
  });

  it('with a prefix template leaves out dead-{source}, and reads a topic ending in .dlq', () => {
    // `dead-` alone is no dead letter: {source} stands for one or more characters.
    expect(read({ type: 'broker', destination: 'dead-{source}' })).toEqual(['all-dead', 'dead-', 'orders', 'orders.dlq', 'payments']);
  });

  it('with a fixed destination leaves out exactly that topic', () => {
    expect(read({ type: 'broker', destination: 'all-dead' })).toEqual(['dead-', 'dead-orders', 'orders', 'orders.dlq', 'payments']);
  });

  it('with dead letters to a file (or none, or another broker type) leaves out only internal topics', () => {
    const all = ['all-dead', 'dead-', 'dead-orders', 'orders', 'orders.dlq', 'payments'];
    expect(read({ type: 'file' })).toEqual(all);
    expect(read({ type: 'none' })).toEqual(all);
    expect(read({ type: 'broker', broker: { type: 'pubsub' } })).toEqual(all);
  });

  it('takes the rest of the template literally, regex characters included', () => {
    const pattern = destinationPattern('dlq.{source}+(x)');
    expect(pattern.test('dlq.orders+(x)')).toBe(true);
    expect(pattern.test('dlqXorders+(x)')).toBe(false);
    expect(pattern.test('dlq.+(x)')).toBe(false);
    expect(destinationPattern('{source}-{source}').test('a-b')).toBe(true);
  });

  it('without a dead-letter predicate reads every matching topic but the internal ones', () => {
    expect(topicsToRead({ brokers: ['b:9092'], topicPattern: '^orders' }, existing)).toEqual(['orders', 'orders.dlq']);
  });
});
