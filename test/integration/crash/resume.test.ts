// Fast resume after a crash (issue #12, test/crash/resume.ts), quick size, once per case: a
// `sluice run` member under load is SIGKILLed and started again at once. Nothing may be lost;
// where the product promises it (Kafka static membership, Kinesis with a stable worker id,
// Pub/Sub) the restarted member processes again within 5 s of having loaded. kafkajs (dynamic
// membership) is measured and printed only: it waits for the killed member's session.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ScenarioContext } from '../../crash/registry.ts';
import { resumeCases, resumeRow } from '../../crash/resume.ts';
import { rowFailures } from '../../crash/scenario.ts';
import { describeWithBroker, requireBroker } from '../brokers.ts';

const brokerOf = (label: string) => label.split(' ')[0] as 'kafka' | 'kinesis' | 'pubsub';

for (const broker of ['kafka', 'kinesis', 'pubsub'] as const) {
  describeWithBroker(broker, `sigkill resume (${broker})`, () => {
    let context: ScenarioContext;
    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-resume-test-'));
      context = { quick: true, wants: () => true, dir, log: (line) => console.log(line) };
    });
    afterAll(async () => {
      if (context) await rm(context.dir, { recursive: true, force: true });
    });

    for (const resumeCase of resumeCases('quick').filter((c) => brokerOf(c.rig.label) === broker)) {
      const promise = resumeCase.resumeMsMax ? `processes again within ${resumeCase.resumeMsMax} ms` : 'resume time reported';
      it(`${resumeCase.rig.label}: the restarted member ${promise}, 0 lost`, async (ctx) => {
        if (broker === 'kinesis') requireBroker('dynamodb', ctx); // the lease table
        const row = await resumeRow(context, resumeCase);
        console.log(
          `${row.scenario} / ${row.broker}: ${row.events} events, ${row.lost} lost, ${row.duplicates} duplicates, resume ${row.resumeMs?.join(', ')} ms after loading (${row.notes})`,
        );
        expect(row.lost, 'events never processed').toBe(0);
        expect(rowFailures(row)).toEqual([]);
      }, 300_000);
    }
  });
}
