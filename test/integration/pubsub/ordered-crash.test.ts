// Issue #12, item 2: ordered Pub/Sub after SIGKILLs, with the ack audit on. The crash-restart
// harness's "sigkill x3" row (test/crash/sigkill.ts: a backlog over 64 ordering keys, `sluice run`
// with pool.orderByKey, no dead letters, queue 2,000, pool 16 and a recording handler, SIGKILLed
// 4–8 s after each of three starts, then drained) on an ordered subscription of both local
// implementations of the API:
//  - pstest (faithful here: a key's next message is delivered only once the previous one is
//    acked, and a killed client's messages come back when their leases expire): nothing may be
//    lost, and a key's events are first processed in publish order;
//  - the gcloud emulator, which drops messages of ordered subscriptions when a client dies
//    (bare-client reproduction: emulator-ordering.test.ts): what it lost is printed, not asserted.
// On both, the audit must be clean: every message Sluice acked was processed first, so whatever
// is missing was not acked by Sluice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sigkillRow } from '../../crash/sigkill.ts';
import { pubsubTarget } from '../../crash/targets.ts';
import { describeWithPubSub, type PubSubImplementation } from './helpers.ts';

/** Whether the implementation redelivers everything a killed client held on an ordered subscription. */
const FAITHFUL_ORDERED_REDELIVERY: Record<PubSubImplementation, boolean> = { emulator: false, pstest: true };

describeWithPubSub('pubsub ordered subscription across three SIGKILLs', (endpoint, implementation) => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-pubsub-ordered-crash-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('acks nothing it did not process, and (where the implementation redelivers) loses nothing and keeps per-key order', async () => {
    const target = pubsubTarget({ ordered: true, endpoint: endpoint.emulatorHost, implementation });
    const row = await sigkillRow(
      { quick: true, wants: () => true, dir, log: (line) => process.env.SLUICE_TEST_LOG && console.error(line) },
      target,
    );
    console.log(
      `${row.scenario} / ${row.broker}: ${row.events} events, lost ${row.lost}, duplicates ${row.duplicates}, ` +
        `order violations ${row.orderViolations}, resume ${row.resumeMs?.join('/')} ms, drain ${row.drainMs} ms, ` +
        `audit ${row.audit === 'off' ? 'off' : `${row.audit.violations} violations over ${row.audit.acks} acks`}` +
        `${row.notes ? `; ${row.notes}` : ''}`,
    );
    expect(row.audit, 'the ack audit ran').not.toBe('off');
    if (row.audit !== 'off') {
      expect(row.audit.acks, 'acks were audited').toBeGreaterThan(0);
      expect(row.audit.violations, 'acked but not processed').toBe(0);
    }
    if (FAITHFUL_ORDERED_REDELIVERY[implementation]) {
      expect(row.lost, 'events never processed').toBe(0);
      expect(row.orderViolations, 'first deliveries out of per-key order').toBe(0);
    }
  }, 480_000);
});
