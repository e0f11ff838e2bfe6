// At-least-once across a crash: a real `sluice run` child process consumes a backlog, is killed
// with SIGKILL mid-stream (no graceful close, no final commit), and a second one takes over from
// the committed offsets. Every event must be processed at least once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KafkaAdapter } from '../../../adapters/kafka/kafka-adapter.ts';
import type { BrokerAdmin, OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { kafkaTestAdapter } from './helpers.ts';

const EVENTS = 20_000;
const KEYS = 200;

// Appends each processed event's number to a file before returning (and so before the ack):
// a line can only be missing if the event was never processed.
const HANDLER = `
import { openSync, writeSync } from 'node:fs';
const out = openSync(process.env.SLUICE_TEST_OUT, 'a');
export default async function handle(event) {
  await new Promise((resolve) => setTimeout(resolve, 2));
  writeSync(out, JSON.parse(event.payload.toString()).n + '\\n');
}
`;

describeWithBroker('kafka', 'kafka at-least-once across SIGKILL', (endpoint) => {
  const topic = uniqueName('alo');
  let dir: string;
  let adapter: KafkaAdapter;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-alo-'));
    adapter = kafkaTestAdapter(endpoint, { topics: [topic] });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 4 });
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function runSluice(configPath: string, out: string): ChildProcess {
    const child = spawn(process.execPath, ['src/cli/sluice.mjs', 'run', '--quiet', '--config', configPath], {
      env: { ...process.env, SLUICE_TEST_OUT: out, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
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

  it('processes every event at least once when the consumer is killed mid-stream and restarted', async () => {
    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({ key: `key-${n % KEYS}`, payload: Buffer.from(JSON.stringify({ n })) }));
    for (let i = 0; i < EVENTS; i += 2_000) await publisher.publish(topic, events.slice(i, i + 2_000));

    const out = join(dir, 'processed.txt');
    const configPath = join(dir, 'sluice.yaml');
    await writeFile(join(dir, 'handler.mjs'), HANDLER);
    await writeFile(
      configPath,
      stringify({
        broker: { type: 'kafka', kafka: { brokers: endpoint.brokers, topics: [topic], group: `${topic}-group`, commitIntervalMs: 200, fetch: { maxWaitTimeMs: 100 },
            // The killed member holds its partitions until its session expires: keep that short.
            sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, revokeTimeoutMs: 5_000 } },
        queue: { maxEvents: 2_000 },
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
    console.log(`kafka at-least-once: ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${all.length - seen.size} duplicates after restart`);
  });
});
