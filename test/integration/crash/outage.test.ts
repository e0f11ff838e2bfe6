// The broker-outage scenario of the crash-restart harness (test/crash/outage.ts), quick size:
// the broker goes away for 15 s mid-stream and comes back. Sluice must ride it out, lose nothing,
// and process again at most what was in flight (queue + what the source and the pool held).
// Kafka runs a private broker (stopped by pid); Kinesis and Pub/Sub go through toxiproxy.
import { describe, expect, it } from 'vitest';
import { brokerOutage, type OutageTarget } from '../../crash/outage.ts';
import { rowFailures } from '../../crash/scenario.ts';
import { describeWithBroker } from '../brokers.ts';

const log = process.env.SLUICE_OUTAGE_VERBOSE ? (msg: string) => console.log(`[outage] ${msg}`) : undefined;

async function expectWithinBounds(targets: OutageTarget[]): Promise<void> {
  const rows = await brokerOutage({ size: 'quick', targets, log });
  expect(rows.map((row) => row.broker)).toHaveLength(targets.length);
  for (const row of rows) {
    console.log(
      `broker outage: ${row.broker}: ${row.events} events, ${row.lost} lost, ${row.duplicates} duplicates (bound ${row.bounds?.duplicatesMax ?? 'none'}), drain ${row.drainMs} ms${row.notes ? `; ${row.notes}` : ''}`,
    );
    expect(row.lost, `${row.broker}: lost`).toBe(0);
    expect(rowFailures(row), row.broker).toEqual([]);
  }
}

describe('broker outage of 15 s mid-stream', () => {
  // The private Kafka is started from the same cached jars as the shared one: needs what it needs.
  describeWithBroker('kafka', 'kafka (private broker, stopped and started by pid)', () => {
    it(
      'both clients lose nothing and reprocess at most what was in flight',
      () => expectWithinBounds(['kafkajs', 'platformatic']),
      900_000,
    );
  });
  describeWithBroker('kinesis', 'kinesis through toxiproxy', () => {
    describeWithBroker('dynamodb', 'with dynalite leases', () => {
      it('loses nothing and reprocesses at most what was in flight', () => expectWithinBounds(['kinesis']), 600_000);
    });
  });
  describeWithBroker('pubsub', 'pubsub through toxiproxy', () => {
    // Duplicates measured and printed; the row has no bound yet (adapters/pubsub/README.md, "Outage").
    it('loses nothing', () => expectWithinBounds(['pubsub']), 600_000);
  });
});
