// Issue #12, item 2: ordered Pub/Sub after SIGKILLs, with the ack audit on. A backlog over 64
// ordering keys (published as the crash-restart harness does: test/crash/targets.ts); `sluice run`
// with pool.orderByKey, no dead letters, queue 2,000, pool 16 and a 20 ms recording handler is
// SIGKILLed three times mid-stream, then drained. On an ordered subscription of both local
// implementations of the API:
//  - pstest (faithful here: a key's next message is delivered only once the previous one is
//    acked, and a killed client's messages come back when their leases expire): nothing may be
//    lost, and a key's events are first processed in publish order;
//  - the gcloud emulator, which drops messages of ordered subscriptions when a client dies
//    (bare-client reproduction: emulator-ordering.test.ts): what it lost is printed, not asserted.
// On both, the audit must be clean: every message Sluice acked was processed first, so whatever
// is missing was not acked by Sluice.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatAuditReport } from '../../../src/audit/verify.ts';
import { pubsubTarget } from '../../crash/targets.ts';
import { killChildren } from '../../crash/sluice-child.ts';
import { killRepeatedlyThenDrain } from '../crash-restart.ts';
import { describeWithPubSub, type PubSubImplementation } from './helpers.ts';

const EVENTS = 8_000;
const KEYS = 64;
const KILLS = 3;

/** Whether the implementation redelivers everything a killed client held on an ordered subscription. */
const FAITHFUL_ORDERED_REDELIVERY: Record<PubSubImplementation, boolean> = { emulator: false, pstest: true };

describeWithPubSub('pubsub ordered subscription across three SIGKILLs', (endpoint, implementation) => {
  let dir: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-pubsub-ordered-crash-'));
  });

  afterAll(async () => {
    killChildren(children);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('acks nothing it did not process; where the implementation redelivers, loses nothing and keeps per-key order', async () => {
    const target = pubsubTarget({ ordered: true, endpoint: endpoint.emulatorHost, implementation });
    const prepared = await target.prepare({ events: EVENTS, keys: KEYS });
    try {
      const result = await killRepeatedlyThenDrain({
        dir,
        name: `ordered-${implementation}`,
        events: EVENTS,
        kills: KILLS,
        ordered: true,
        delayMs: 20,
        killAfterFirstEventMs: [1_000, 4_000],
        // Three times the killed children's leases (lease.maxAckDeadlineSeconds: 10 in the
        // target's config): a drain that stops for this long has nothing left to wait for.
        idleMs: 30_000,
        children,
        env: prepared.env,
        config: {
          broker: prepared.broker,
          queue: { maxEvents: 2_000 },
          pool: { size: 16, orderByKey: true },
          deadLetter: { type: 'none' },
        },
      });
      const { audit } = result;
      console.log(
        `pubsub ordered crash (${implementation}): ${EVENTS} events, ${KEYS} keys, ${KILLS} SIGKILLs at ${result.atKills.join('/')} processed; ` +
          `lost ${result.lost}, duplicates ${result.duplicates}, order violations ${result.orderViolations}, ` +
          `drain ${(result.drainMs / 1000).toFixed(1)} s, audit ${audit.violations} violations over ${audit.acks} acks (${audit.ackedIds} ids)`,
      );
      expect(result.atKills.at(-1), 'the kills came mid-stream').toBeLessThan(EVENTS);
      expect(audit.runs, 'every run wrote to the audit').toBe(KILLS + 1);
      expect(audit.acks, 'acks were audited').toBeGreaterThan(0);
      expect(audit.violations, formatAuditReport(audit)).toBe(0);
      if (FAITHFUL_ORDERED_REDELIVERY[implementation]) {
        expect(result.lostExamples, `${result.lost} events never processed, e.g.`).toEqual([]);
        expect(result.orderViolations, 'first deliveries out of per-key order').toBe(0);
      }
    } finally {
      await prepared.cleanup();
    }
  }, 600_000);
});
