// What the gcloud Pub/Sub emulator does to an ordered subscription when a subscriber dies, shown
// with a bare @google-cloud/pubsub subscriber (bare-subscriber.mjs: record, then ack), no Sluice:
// killed with SIGKILL three times mid-stream, then left to drain.
//
// Pub/Sub promises at-least-once delivery, ordered subscriptions included: a message that was not
// acked is delivered again once its lease expires, and the messages of its key after it follow
// it. The emulator (gcloud pubsub-emulator 0.8.x) does not keep that promise: after the kills it
// never delivers some messages again, neither to the restarted subscriber nor to a fresh one, or
// delivers a key's later messages before earlier ones it skipped (or both). In
// the runs recorded in adapters/pubsub/README.md a key either stalled for good (its tail never
// came) or skipped a contiguous run of its messages and went on with later ones. A subscriber
// that records before it acks cannot have acked those, so they were dropped by the emulator.
// pstest (the Go client's fake, the second implementation here) redelivers them: the same test
// asserts 0 lost there, and the emulator's loss is asserted so that a fixed emulator is noticed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { countDeliveries } from '../../crash/deliveries.ts';
import { processedNumbers } from '../crash-restart.ts';
import { bareSubscribers } from './bare-subscribers.ts';
import { describeWithPubSub, sleep, type PubSubImplementation } from './helpers.ts';

const EVENTS = 6_400;
const KEYS = 64;
const KILLS = 3;
/** Rounds on the emulator until one shows the loss or a reordering (a round whose kills all came after the backlog was done shows neither). */
const MAX_ROUNDS = 3;

/** What each implementation does with an ordered subscription's unacked messages after a crash. */
const LOSES_ORDERED_AFTER_CRASH: Record<PubSubImplementation, boolean> = { emulator: true, pstest: false };

describeWithPubSub('bare client on an ordered subscription across SIGKILLs', (endpoint, implementation) => {
  const bare = bareSubscribers(endpoint, 'sluice-pubsub-bare-ordered-');

  /** One round: fresh ordered subscription, publish, KILLS kills, drain. Returns the events never recorded. */
  async function round(index: number): Promise<{ lost: number[]; duplicates: number; violations: number; atLastKill: number }> {
    const topicName = await bare.topic(index, { enableMessageOrdering: true, ackDeadlineSeconds: 10 });
    const publisher = bare.client.topic(topicName, { messageOrdering: true, batching: { maxMessages: 500, maxMilliseconds: 10 } });
    await Promise.all(
      Array.from({ length: EVENTS }, (_, n) =>
        publisher.publishMessage({ data: Buffer.from(JSON.stringify({ n })), orderingKey: `key-${n % KEYS}` }),
      ),
    );
    const out = join(bare.dir, `${topicName}.txt`);
    await writeFile(out, '');
    const start = () => bare.start(topicName, out);
    const distinct = async () => new Set(await processedNumbers(out)).size;
    for (let kill = 0; kill < KILLS; kill++) {
      const child = start();
      // Killed by progress, not by time: a bare subscriber on an idle emulator gets through
      // thousands of events a second, so a kill timed in seconds came after the whole backlog on a
      // quiet machine (three rounds in CI, nothing held at any kill, nothing to lose). The k-th kill
      // comes once k/8 of the events are recorded: mid-stream, with up to flow control's 1,000 held.
      const target = Math.floor(((kill + 1) * EVENTS) / 8);
      const deadline = Date.now() + 60_000;
      while ((await distinct()) < target && Date.now() < deadline) await sleep(10);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const atLastKill = await distinct();
    // Drain: until everything came, or nothing did for 30 s (three times the leases the killed
    // subscribers could have left: after that nothing is held any more).
    const last = start();
    let seen = -1;
    let progressAt = Date.now();
    for (;;) {
      const now = await distinct();
      if (now >= EVENTS) break;
      if (now !== seen) {
        seen = now;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > 30_000) break;
      await sleep(200);
    }
    last.kill('SIGKILL');
    await new Promise((resolve) => last.once('exit', resolve));
    const all = await processedNumbers(out);
    const recorded = new Set(all);
    const lost = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !recorded.has(n));
    const counts = countDeliveries(
      all.map((n) => ({ n, key: `key-${n % KEYS}`, at: 0 })),
      EVENTS,
      true,
    );
    return { lost, duplicates: counts.duplicates, violations: counts.orderViolations, atLastKill };
  }

  it(`${LOSES_ORDERED_AFTER_CRASH[implementation] ? 'loses or reorders' : 'redelivers, in order,'} unacked messages of an ordered subscription after ${KILLS} SIGKILLs`, async () => {
    const rounds = LOSES_ORDERED_AFTER_CRASH[implementation] ? MAX_ROUNDS : 1;
    let result: Awaited<ReturnType<typeof round>> | undefined;
    for (let i = 0; i < rounds; i++) {
      result = await round(i);
      const lostKeys = new Set(result.lost.map((n) => n % KEYS)).size;
      console.log(
        `bare client, ordered (${implementation}) round ${i + 1}: ${EVENTS} events, ${KEYS} keys, ${KILLS} SIGKILLs: ` +
          `${result.atLastKill} processed at the last kill; lost ${result.lost.length} (${lostKeys} keys), duplicates ${result.duplicates}, order violations ${result.violations}`,
      );
      if (result.lost.length > 0 || result.violations > 0) break;
    }
    expect(result!.atLastKill, 'the kills came mid-stream').toBeLessThan(EVENTS);
    if (LOSES_ORDERED_AFTER_CRASH[implementation]) {
      // Not what Pub/Sub promises (see the top of the file): documents the emulator's behaviour. A
      // round loses messages, or delivers a key's later messages before earlier unacked ones it
      // skipped (they come later: order violations), or both; which one varies from run to run.
      expect(
        result!.lost.length + result!.violations,
        'the emulator drops or reorders messages of an ordered subscription after a crash',
      ).toBeGreaterThan(0);
    } else {
      expect(result!.lost, 'messages never delivered again').toEqual([]);
      expect(result!.violations, 'first deliveries out of per-key order').toBe(0);
    }
  }, 600_000);
});
