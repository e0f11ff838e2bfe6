import { describe, expect, it } from 'vitest';
import { countDeliveries } from '../crash/deliveries.ts';
import { rowFailures, type ScenarioRow } from '../crash/scenario.ts';
import { formatTable } from '../crash/table.ts';

const at = 0;

describe('crash-restart harness: counting', () => {
  it('counts lost, duplicates and per-key out-of-order first deliveries', () => {
    const records = [
      { n: 0, key: 'a', at },
      { n: 2, key: 'a', at },
      { n: 1, key: 'b', at },
      { n: 2, key: 'a', at }, // duplicate
      { n: 4, key: 'a', at }, // key a: 0, 2, 4 in order
      { n: 3, key: 'b', at },
      { n: 6, key: 'a', at },
      { n: 4, key: 'a', at }, // duplicate, not an order violation
      { n: 5, key: 'b', at },
      { n: 8, key: 'a', at },
      { n: 7, key: 'b', at },
      { n: 10, key: 'a', at }, // 9 never recorded
    ];
    records.splice(6, 0, { n: 11, key: 'b', at }); // b: 1, 3, 11, then 5 and 7 arrive late
    expect(countDeliveries(records, 12, true)).toEqual({ lost: 1, lostExamples: [9], duplicates: 2, orderViolations: 2 });
    expect(countDeliveries(records, 12, false).orderViolations).toBe(0);
  });

  it('fails a row on loss, audit violations, order violations, errors and bounds; prints one table', () => {
    const row: ScenarioRow = {
      scenario: 'sigkill x3',
      broker: 'kafka (kafkajs)',
      events: 100,
      lost: 0,
      duplicates: 7,
      orderViolations: 0,
      resumeMs: [31_000, 30_500, 29_900],
      drainMs: 12_345,
      audit: { acks: 40, violations: 0 },
    };
    expect(rowFailures(row)).toEqual([]);
    const bad: ScenarioRow = {
      ...row,
      broker: 'pubsub ordered (emulator)',
      lost: 3,
      audit: { acks: 9, violations: 2 },
      notes: 'lost e.g. 1',
    };
    expect(rowFailures(bad)).toEqual(['3 lost', 'audit: 2 acked but not processed']);
    const table = formatTable([row, bad]);
    expect(table).toContain('| sigkill x3 | kafka (kafkajs) | 100 | 0 | 7 | 0 | 31.0 / 30.5 / 29.9 | 12.3 | clean (40 acks) | pass |');
    expect(table).toContain('FAIL: 3 lost, audit: 2 acked but not processed | lost e.g. 1 |');
  });
});
