// At-least-once across a crash: a real `sluice run` child process reads a 4-shard stream, is
// killed with SIGKILL mid-stream (no graceful close, no final checkpoint), and a second one
// resumes from the checkpoints. Every event must be processed at least once; the duplicates
// (events processed after the last checkpoint, before the kill) are reported.
// Once with file checkpoints (the file must survive the kill whole: tmp + rename), once with
// the DynamoDB lease table (the second process takes the dead one's leases after they expire).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { OutgoingEvent } from '../../../src/broker/contract.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

const EVENTS = 12_000;
const KEYS = 100;

// Appends each processed event's number to a file before returning (and so before the ack):
// a line can only be missing if the event was never processed.
const HANDLER = `
import { openSync, writeSync } from 'node:fs';
const out = openSync(process.env.SLUICE_TEST_OUT, 'a');
export default async function handle(event) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  writeSync(out, JSON.parse(event.payload.toString()).n + '\\n');
}
`;

describeWithBroker('kinesis', 'kinesis at-least-once across SIGKILL', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    let dir: string;
    const children = new Set<ChildProcess>();
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-kinesis-alo-'));
    });

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      for (const cleanup of cleanups) await cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    function runSluice(configPath: string, out: string): ChildProcess {
      const child = spawn(process.execPath, ['src/cli/sluice.mjs', 'run', '--quiet', '--config', configPath], {
        env: { ...process.env, SLUICE_TEST_OUT: out },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
      child.on('exit', (code, signal) => {
        if (code !== 0 && signal !== 'SIGKILL') console.error(`sluice child exited ${code ?? signal}:\n${stderr}`);
      });
      children.add(child);
      return child;
    }

    async function processed(out: string): Promise<number[]> {
      const text = await readFile(out, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map(Number);
    }

    async function waitFor(what: string, ms: number, check: () => Promise<boolean>, child: ChildProcess): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (child.exitCode !== null) throw new Error(`sluice child exited (${child.exitCode}) while waiting for ${what}`);
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    for (const leases of ['file', 'dynamodb'] as const) {
      it(`processes every event at least once when killed mid-stream and restarted (${leases} leases)`, async () => {
        const base = localConfig(leases === 'dynamodb' ? { kinesis, dynamodb } : { kinesis });
        const { config, cleanup } = await freshStream(base, 4);
        cleanups.push(cleanup);
        const publisher = adapterFor(config).createPublisher();
        const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({ key: `key-${n % KEYS}`, payload: Buffer.from(JSON.stringify({ n })) }));
        for (let i = 0; i < EVENTS; i += 500) await publisher.publish(config.stream, events.slice(i, i + 500));
        await publisher.close();

        const out = join(dir, `${leases}.processed.txt`);
        const configPath = join(dir, `${leases}.sluice.yaml`);
        await writeFile(join(dir, 'handler.mjs'), HANDLER);
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
        if (leases === 'dynamodb') cleanups.push(() => adapterFor({ ...config, application: section.application }).createAdmin().deleteLeaseTable(section.application));
        await writeFile(
          configPath,
          stringify({
            broker: { type: 'kinesis', kinesis: section },
            // A small queue keeps the reads close to the processing, so the kill lands mid-stream.
            queue: { maxEvents: 400 },
            pool: { size: 8 },
            handler: { module: join(dir, 'handler.mjs') },
            metrics: { enabled: false },
            log: { level: 'warn', summaryIntervalMs: 0 },
          }),
        );

        const first = runSluice(configPath, out);
        await waitFor('a third of the events', 90_000, async () => (await processed(out)).length >= EVENTS / 3, first);
        process.kill(first.pid!, 'SIGKILL');
        await new Promise((resolve) => first.once('exit', resolve));
        const atKill = new Set(await processed(out)).size;
        expect(atKill, 'the kill must come mid-stream').toBeLessThan(EVENTS);

        const second = runSluice(configPath, out);
        await waitFor(`all ${EVENTS} events`, 120_000, async () => new Set(await processed(out)).size >= EVENTS, second);
        second.kill('SIGTERM');
        const code = await new Promise<number | null>((resolve) => second.once('exit', (exitCode) => resolve(exitCode)));
        expect(code).toBe(0);

        const all = await processed(out);
        const seen = new Set(all);
        const missing = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !seen.has(n));
        expect(missing, 'events never processed').toEqual([]);
        console.log(`kinesis at-least-once (${leases} leases): ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${all.length - seen.size} duplicates after restart`);
      });
    }
  });
});
