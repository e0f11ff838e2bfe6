// A topic deleted under a running source (missingTopicGraceMs, topic-watch.ts). Neither client
// reports it by itself: kafkajs crash-restarts forever, platformatic reopens its stream forever
// and stays "connected", and both stop reading every other topic meanwhile.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Source } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { freePort, spawnSluice } from '../../sluice-cli.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describeWithKafka('kafka: a topic deleted under a running source', (endpoint) => {
  let admin: BrokerAdmin;

  beforeAll(() => {
    admin = kafkaTestAdapter(endpoint).createAdmin();
  });

  afterAll(async () => {
    await admin?.close();
  });

  /** Starts a source (grace `missingTopicGraceMs`) and a publisher for `overrides`' topics. */
  async function started(overrides: Record<string, unknown>, graceMs: number) {
    const adapter = kafkaTestAdapter(endpoint, { group: uniqueName('gone'), missingTopicGraceMs: graceMs, ...overrides });
    const publisher = adapter.createPublisher();
    await publisher.connect();
    const source: Source = adapter.createSource();
    const sink = new CollectingSink(10, true);
    await source.start(sink);
    return {
      source,
      sink,
      publisher,
      close: async () => {
        await source.close();
        await publisher.close();
      },
    };
  }

  /** Publishes `payload` to `topic` until the sink has it (the client may still be rejoining). */
  async function arrives(run: Awaited<ReturnType<typeof started>>, topic: string, payload: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!run.sink.payloads().includes(payload)) {
      if (Date.now() > deadline) throw new Error(`${payload} never arrived from ${topic}`);
      await run.publisher.publish(topic, [{ key: 'k', payload: Buffer.from(payload) }]).catch(() => undefined);
      await sleep(1_000);
    }
  }

  it('a configured topic deleted: fatal naming the topic and the setting, health false', async () => {
    const topic = uniqueName('gone');
    await admin.createDestination(topic, { partitions: 2 });
    const run = await started({ topics: [topic] }, 3_000);
    try {
      await arrives(run, topic, 'before');
      await admin.deleteDestination(topic);
      await until('a fatal error', () => run.sink.fatalErrors.length > 0);
      const [error] = run.sink.fatalErrors;
      expect(error!.name).toBe('NotFoundError');
      expect(error!.message).toContain(`topic ${topic} was deleted`);
      expect(error!.message).toContain('broker.kafka.missingTopicGraceMs');
      expect(run.source.health()).toMatchObject({ connected: false, detail: expect.stringContaining(topic) });
    } finally {
      await run.close();
    }
  });

  it('sluice run: ready, then the topic deleted: exits 1 naming the topic', { timeout: 180_000 }, async () => {
    const topic = uniqueName('run-gone');
    await admin.createDestination(topic, { partitions: 1 });
    const port = await freePort();
    const path = join(await mkdtemp(join(tmpdir(), 'sluice-gone-')), 'config.yaml');
    const kafka = {
      brokers: endpoint.brokers,
      client: endpoint.client,
      topics: [topic],
      group: uniqueName('run-gone'),
      missingTopicGraceMs: 3_000,
    };
    const config = { broker: { type: 'kafka', kafka }, metrics: { enabled: true, host: '127.0.0.1', port }, log: { summaryIntervalMs: 0 } };
    await writeFile(path, stringify(config));
    const sluice = spawnSluice(['run', '--config', path]);
    try {
      const readyz = () =>
        fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
          (response) => response.status,
          () => 0,
        );
      let readyNow = false;
      const poll = setInterval(() => void readyz().then((status) => (readyNow = status === 200)), 200);
      try {
        await until('sluice ready', () => sluice.child.exitCode !== null || readyNow);
      } finally {
        clearInterval(poll);
      }
      expect(sluice.child.exitCode, sluice.output.stderr).toBeNull();
      await admin.deleteDestination(topic);
      const code = await sluice.exited;
      expect(code).toBe(1);
      expect(sluice.output.stdout + sluice.output.stderr).toContain(`topic ${topic} was deleted`);
    } finally {
      if (sluice.child.exitCode === null) sluice.child.kill('SIGKILL');
    }
  });

  it('a configured topic deleted and re-created within the grace: no fatal, read on', async () => {
    const topic = uniqueName('back');
    await admin.createDestination(topic, { partitions: 1 });
    const run = await started({ topics: [topic] }, 20_000);
    try {
      await arrives(run, topic, 'before');
      await admin.deleteDestination(topic);
      await admin.createDestination(topic, { partitions: 1 });
      await arrives(run, topic, 'after');
      expect(run.sink.fatalErrors).toEqual([]);
    } finally {
      await run.close();
      await admin.deleteDestination(topic);
    }
  });

  it('topicPattern: one matched topic deleted, the others are still read and nothing is fatal', async () => {
    const prefix = uniqueName('pat').replace(/-/g, '_');
    const [gone, kept] = [`${prefix}_a`, `${prefix}_b`];
    await admin.createDestination(gone, { partitions: 1 });
    await admin.createDestination(kept, { partitions: 1 });
    const run = await started({ topicPattern: `^${prefix}_` }, 3_000);
    try {
      await arrives(run, kept, 'before');
      await admin.deleteDestination(gone);
      await arrives(run, kept, 'after');
      expect(run.sink.fatalErrors).toEqual([]);
      await until('the source reading only the kept topic', () => run.source.health().detail?.endsWith(`of ${kept}`) ?? false);
      expect(run.source.health().connected).toBe(true);
    } finally {
      await run.close();
      await admin.deleteDestination(kept);
    }
  });
});
