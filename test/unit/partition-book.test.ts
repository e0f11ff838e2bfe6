// The Kafka sources' bookkeeping across a revoke (a rejoin after a broker outage): what a member
// completed is carried over the reset, skipped when the client fetches it again from the group's
// committed offset, and committed again, instead of being processed twice.
import { describe, expect, it } from 'vitest';
import { PartitionBook } from '../../adapters/kafka/partition-book.ts';

const records = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i) }));

/** Delivers and completes offsets [from, to) of t/0, as the source does for acked events. */
function complete(book: PartitionBook, from: number, to: number): void {
  const progress = book.progress('t', 0, String(from));
  const tickets = records(from, to).map((record) => progress.track(record.offset));
  for (const ticket of tickets) progress.complete(ticket);
}

describe('PartitionBook across a reset', () => {
  it('skips what was completed before the reset and commits it again when the group is behind', () => {
    const book = new PartitionBook();
    complete(book, 0, 100);
    book.committedAt([{ topic: 't', partition: 0, offset: '40' }]); // later commits failed (outage)
    book.reset();
    expect(book.toCommit()).toEqual([]);
    // After the rejoin the client fetches from the committed offset, 40.
    expect(book.alreadyDone('t', 0, records(40, 90))).toBe(50);
    expect(book.toCommit()).toEqual([{ topic: 't', partition: 0, offset: '100' }]);
    expect(book.alreadyDone('t', 0, records(90, 130))).toBe(10);
    book.committedAt([{ topic: 't', partition: 0, offset: '100' }]);
    expect(book.carriedPositions().size).toBe(0);
    expect(book.alreadyDone('t', 0, records(100, 130))).toBe(0);
  });

  it('tracks on from the carried position once the skipped records are past', () => {
    const book = new PartitionBook();
    complete(book, 0, 10);
    book.reset();
    expect(book.alreadyDone('t', 0, records(0, 20))).toBe(10);
    complete(book, 10, 15);
    expect(book.toCommit()).toEqual([{ topic: 't', partition: 0, offset: '15' }]);
  });

  it('drops the carried position when the group is already past it (another member moved on)', () => {
    const book = new PartitionBook();
    complete(book, 0, 10);
    book.reset();
    expect(book.alreadyDone('t', 0, records(25, 30))).toBe(0);
    expect(book.carriedPositions().size).toBe(0);
    expect(book.alreadyDone('t', 0, records(0, 5))).toBe(0);
  });

  it('forgets the carried position of a partition assigned elsewhere', () => {
    const book = new PartitionBook();
    complete(book, 0, 10);
    book.reset();
    book.forget(() => false);
    expect(book.alreadyDone('t', 0, records(0, 10))).toBe(0);
    expect(book.toCommit()).toEqual([]);
  });
});

describe('PartitionBook within one generation', () => {
  it('skips records fetched again that were already delivered (a new fetch stream from the committed offset)', () => {
    const book = new PartitionBook();
    book.progress('t', 0, '0');
    book.tracked('t', 0, '49');
    expect(book.alreadyDone('t', 0, records(10, 60))).toBe(40);
    book.reset();
    expect(book.alreadyDone('t', 0, records(10, 60))).toBe(0); // nothing completed: read again
  });
});
