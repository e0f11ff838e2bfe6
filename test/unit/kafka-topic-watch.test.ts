// When a Kafka source gives up on a missing topic (adapters/kafka/topic-watch.ts): only after
// missingTopicGraceMs of consecutive listings without it, never on a failed listing; a configured
// topic is fatal, a topicPattern match is dropped unless none is left. Times are passed in.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TopicWatch } from '../../adapters/kafka/topic-watch.ts';
import type { SluiceError } from '../../src/errors.ts';

const GRACE = 30_000;

function watch(reading: string[], topicPattern?: string) {
  let listed: string[] | Error = [];
  const fatal: SluiceError[] = [];
  const dropped: string[][] = [];
  const topics = [...reading];
  const topicWatch = new TopicWatch({
    config: { brokers: ['b:9092'], topicPattern, missingTopicGraceMs: GRACE },
    logger: pino({ level: 'silent' }),
    topics: () => topics,
    listTopics: async () => {
      if (listed instanceof Error) throw listed;
      return listed;
    },
    drop: async (gone) => {
      dropped.push(gone);
      topics.splice(0, topics.length, ...topics.filter((topic) => !gone.includes(topic)));
    },
    fatal: (error) => fatal.push(error),
  });
  topicWatch.start();
  watches.push(topicWatch);
  return {
    fatal,
    dropped,
    at: (now: number, listing: string[] | Error) => {
      listed = listing;
      return topicWatch.check(now);
    },
  };
}

const watches: TopicWatch[] = [];
afterEach(() => {
  for (const topicWatch of watches.splice(0)) topicWatch.stop();
});

describe('TopicWatch', () => {
  it('a configured topic missing for the whole grace is fatal, naming it and the setting', async () => {
    const w = watch(['orders', 'payments']);
    await w.at(0, ['payments']);
    await w.at(GRACE - 1, ['payments']);
    expect(w.fatal).toEqual([]);
    await w.at(GRACE, ['payments']);
    expect(w.fatal).toHaveLength(1);
    expect(w.fatal[0]!.name).toBe('NotFoundError');
    expect(w.fatal[0]!.message).toMatch(
      /topic orders was deleted: not at brokers b:9092 for 30000 ms \(broker\.kafka\.missingTopicGraceMs\)/,
    );
  });

  it('a topic back within the grace starts its grace anew when it goes missing again', async () => {
    const w = watch(['orders']);
    await w.at(0, []);
    await w.at(10_000, ['orders']);
    await w.at(20_000, []);
    await w.at(GRACE + 10_000, []);
    expect(w.fatal).toEqual([]);
    await w.at(GRACE + 20_000, []);
    expect(w.fatal).toHaveLength(1);
  });

  it('a failed listing (brokers unreachable) counts as nothing', async () => {
    const w = watch(['orders']);
    await w.at(0, new Error('connection refused'));
    await w.at(GRACE * 10, new Error('connection refused'));
    expect(w.fatal).toEqual([]);
  });

  it('topicPattern: a missing match is dropped, not fatal; fatal once no match is left', async () => {
    const w = watch(['orders-a', 'orders-b'], '^orders-');
    await w.at(0, ['orders-b']);
    await w.at(GRACE, ['orders-b']);
    expect(w.dropped).toEqual([['orders-a']]);
    expect(w.fatal).toEqual([]);
    await w.at(GRACE + 1, []);
    await w.at(2 * GRACE + 1, []);
    expect(w.fatal).toHaveLength(1);
    expect(w.fatal[0]!.message).toMatch(/topic orders-b was deleted.*no topic matching broker\.kafka\.topicPattern \/\^orders-\/ is left/);
  });
});
