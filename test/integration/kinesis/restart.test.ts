// At-least-once across a crash: a real `sluice run` child process reads a 4-shard stream, is
// killed with SIGKILL mid-stream (no graceful close, no final checkpoint), and a second one
// resumes from the checkpoints. Every event must be processed at least once; the duplicates
// (events processed after the last checkpoint, before the kill) are reported.
// Once with file checkpoints (the file must survive the kill whole: tmp + rename), once with
// the DynamoDB lease table (the second process takes the dead one's leases after they expire).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import type { OutgoingEvent } from '../../../src/broker/contract.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { killMidStreamAndRestart } from '../crash-restart.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

const EVENTS = 12_000;
const KEYS = 100;

describeWithBroker('kinesis', 'kinesis at-least-once across SIGKILL', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    let dir: string;
    const children = new Set<ChildProcess>();
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-kinesis-alo-'));
    });

    afterAll(async () => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      for (const cleanup of cleanups) await cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const leases of ['file', 'dynamodb'] as const) {
      it(`processes every event at least once when killed mid-stream and restarted (${leases} leases)`, async () => {
        const base = localConfig(leases === 'dynamodb' ? { kinesis, dynamodb } : { kinesis });
        const { config, cleanup } = await freshStream(base, 4);
        cleanups.push(cleanup);
        const publisher = adapterFor(config).createPublisher();
        const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
          key: `key-${n % KEYS}`,
          payload: Buffer.from(JSON.stringify({ n })),
        }));
        for (let i = 0; i < EVENTS; i += 500) await publisher.publish(config.stream, events.slice(i, i + 500));
        await publisher.close();

        const section = {
          stream: config.stream,
          application: uniqueName('alo'),
          region: config.region,
          endpoint: config.endpoint,
          credentials: { ...kinesis.credentials },
          checkpointIntervalMs: 200,
          leases:
            leases === 'file'
              ? { type: 'file', path: join(dir, 'checkpoints.json') }
              : { type: 'dynamodb', endpoint: dynamodb.url, durationMs: 2_000, renewIntervalMs: 500, takeIntervalMs: 500 },
        };
        if (leases === 'dynamodb')
          cleanups.push(() =>
            adapterFor({ ...config, application: section.application })
              .createAdmin()
              .deleteLeaseTable(section.application),
          );
        const { atKill, duplicates, acks } = await killMidStreamAndRestart({
          dir,
          name: leases,
          events: EVENTS,
          children,
          config: {
            broker: { type: 'kinesis', kinesis: section },
            // A small queue keeps the reads close to the processing, so the kill lands mid-stream.
            queue: { maxEvents: 400 },
            pool: { size: 8 },
          },
        });
        console.log(
          `kinesis at-least-once (${leases} leases): ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${duplicates} duplicates after restart, audit clean over ${acks} acks`,
        );
      });
    }
  });
});
