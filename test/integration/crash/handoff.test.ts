// The SIGTERM handoff of issue #12 (test/crash/handoff.ts), quick size, once per broker and
// client: two `sluice run` members under load, one stopped with SIGTERM. Nothing may be lost, at
// most 100 events processed twice, and the survivor takes the departed member's share over well
// before a session (Kafka 30 s), a lease (Kinesis 10 s) or an ack deadline (Pub/Sub) would have
// run out. Times are printed; the bounds asserted are the row's generous ones.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handoffCases, handoffRow } from '../../crash/handoff.ts';
import type { ScenarioContext } from '../../crash/registry.ts';
import { rowFailures } from '../../crash/scenario.ts';
import { describeWithBroker, requireBroker } from '../brokers.ts';

const brokerOf = (label: string) => label.split(' ')[0] as 'kafka' | 'kinesis' | 'pubsub';

for (const broker of ['kafka', 'kinesis', 'pubsub'] as const) {
  describeWithBroker(broker, `sigterm handoff (${broker})`, () => {
    let context: ScenarioContext;
    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-handoff-test-'));
      context = { quick: true, wants: () => true, dir, log: (line) => console.log(line) };
    });
    afterAll(async () => {
      if (context) await rm(context.dir, { recursive: true, force: true });
    });

    for (const handoffCase of handoffCases().filter((c) => brokerOf(c.rig.label) === broker)) {
      const what = handoffCase.takeoverMsMax ? 'the survivor takes over at once' : 'the survivor takes over after the session';
      it(`${handoffCase.rig.label}: ${what}, 0 lost, at most 100 duplicates`, async (ctx) => {
        if (broker === 'kinesis') requireBroker('dynamodb', ctx); // the lease table
        const row = await handoffRow(context, handoffCase);
        console.log(
          `${row.scenario} / ${row.broker}: ${row.events} events, ${row.lost} lost, ${row.duplicates} duplicates, takeover ${row.takeoverMs ?? '-'} ms (${row.notes})`,
        );
        expect(row.lost, 'events never processed').toBe(0);
        // A Pub/Sub member may have processed all it held before closing: nothing to take over.
        if (broker !== 'pubsub') expect(row.takeoverMs, "the survivor processed the departed member's share").toBeDefined();
        // leaveGroupOnClose: false keeps a static member in the group: its share waits for its 10 s session.
        if (handoffCase.rig.label.includes('stays')) expect(row.takeoverMs).toBeGreaterThan(5_000);
        expect(rowFailures(row)).toEqual([]);
      }, 300_000);
    }
  });
}
