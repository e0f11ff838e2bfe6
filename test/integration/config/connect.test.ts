// `sluice config check --connect` against the real local brokers: one config whose resources all
// exist (created first, under fresh names) and one naming a missing one, per broker, and brokers
// that cannot be reached (a closed port), which must fail with one clear line each rather than
// hang or print the client library's retries. Through the CLI, as a user runs it.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, spawnSluice } from '../../sluice-cli.ts';
import { describeWithBroker, requireBroker, uniqueName } from '../brokers.ts';
import { kafkaTestAdapter } from '../kafka/helpers.ts';
import { adapterFor, localConfig } from '../kinesis/helpers.ts';
import { createClient } from '../../../adapters/pubsub/client.ts';
import { ensureReplaySubscription } from '../../../adapters/pubsub/resources.ts';
import { pubsubTestAdapter, pubsubTestConfig } from '../pubsub/helpers.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, ensureConsumer, ensureStream, manager } from '../../../adapters/nats/client.ts';
import { streamNameOf } from '../../../adapters/nats/nats-publisher.ts';
import { natsTestConfig } from '../nats/helpers.ts';

/** Runs `sluice config check --connect` on `config` (YAML accepts JSON); exit code and output. */
async function check(config: object, ...flags: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-connect-')), 'sluice.yaml');
  await writeFile(path, JSON.stringify(config, null, 2));
  const cli = spawnSluice(['config', 'check', '--connect', '--config', path, ...flags]);
  const code = await cli.exited;
  return { code, ...cli.output };
}

const lines = (stdout: string) => stdout.split('\n').filter((line) => /^ {2}(ok|FAILED)/.test(line));

describeWithBroker('kafka', 'config check --connect: kafka', (endpoint) => {
  const admin = kafkaTestAdapter(endpoint).createAdmin();
  const topic = uniqueName('check');
  const base = (kafka: object) => ({
    broker: { type: 'kafka', kafka: { brokers: endpoint.brokers, ...kafka } },
    deadLetter: { type: 'broker', destination: '{source}.dlq' },
  });

  beforeAll(async () => {
    await admin.createDestination(topic, { partitions: 3 });
    await admin.createDestination(`${topic}.dlq`, { partitions: 1 });
  });
  afterAll(async () => {
    await admin.deleteDestination(topic).catch(() => undefined);
    await admin.deleteDestination(`${topic}.dlq`).catch(() => undefined);
    await admin.close();
  });

  it('passes when the brokers answer and the topic and its dead-letter topic exist, one line each', async () => {
    const { code, stdout } = await check(base({ topics: [topic], group: uniqueName('g') }));
    expect(lines(stdout)).toEqual([
      expect.stringMatching(/^ {2}ok {6}kafka brokers 127\.0\.0\.1:\d+: 1 broker\(s\) in cluster /),
      `  ok      topic ${topic}: 3 partition(s)`,
      expect.stringMatching(/^ {2}ok {6}consumer group g-.*: not created yet/),
      `  ok      dead-letter topic ${topic}.dlq: 1 partition(s)`,
    ]);
    expect(stdout).toContain('all 4 checks passed');
    expect(code).toBe(0);
  });

  it('reports the topics a pattern matches, and a dead-letter topic the brokers will create', async () => {
    const config = { ...base({ topicPattern: `^${topic}$` }), deadLetter: { type: 'broker', destination: '{source}.later' } };
    const { code, stdout } = await check(config);
    expect(stdout).toContain(`  ok      topics matching /^${topic}$/: ${topic} (3 partition(s))`);
    // The local brokers run with auto.create.topics.enable=true (Kafka's default).
    expect(stdout).toContain(
      `  ok      dead-letter topic ${topic}.later: does not exist yet: created by the brokers on the first dead letter (auto.create.topics.enable is true)`,
    );
    expect(code).toBe(0);
  });

  it('lists the topics the source would read by pattern: its own dead-letter topics left out, as deadLetter.destination names them', async () => {
    const byDefault = await check(base({ topicPattern: `^${topic}` }));
    expect(byDefault.stdout).toContain(`  ok      topics matching /^${topic}/: ${topic} (3 partition(s))\n`);
    // With dead letters to dead-{source}, a topic ending in .dlq is an ordinary topic: read.
    const prefixed = await check({ ...base({ topicPattern: `^${topic}` }), deadLetter: { type: 'broker', destination: 'dead-{source}' } });
    expect(prefixed.stdout).toContain(`  ok      topics matching /^${topic}/: ${topic} (3 partition(s)), ${topic}.dlq (1 partition(s))\n`);
  });

  it('fails (exit 1) on a topic that does not exist, naming it', async () => {
    const missing = uniqueName('missing');
    const { code, stdout } = await check(base({ topics: [topic, missing], producer: { allowAutoTopicCreation: false } }));
    expect(stdout).toContain(`  ok      topic ${topic}: 3 partition(s)`);
    expect(stdout).toMatch(new RegExp(`\\n {2}FAILED {2}topic ${missing}: kafka: topic ${missing} does not exist at `));
    expect(stdout).toContain(`  FAILED  dead-letter topic ${missing}.dlq: does not exist, and producer.allowAutoTopicCreation is false`);
    expect(code).toBe(1);
  });

  it('fails fast on brokers that cannot be reached: one line, none of kafkajs retry chatter', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await check(base({ brokers: [address], topics: [topic] }), '--timeout', '3s');
    expect(lines(stdout)).toEqual([
      expect.stringMatching(new RegExp(`^ {2}FAILED {2}kafka brokers ${address}: kafka: cannot reach brokers ${address}`)),
    ]);
    expect(stdout).toContain('1 of 1 checks FAILED');
    // Nothing else: no log line of the client (its JSON lines carry a "kafkajs" key), no retry notice.
    expect(stdout.trim().split('\n')).toHaveLength(4);
    expect(stderr).toBe('');
    expect(`${stdout}${stderr}`).not.toMatch(/"kafkajs"|KafkaJSNumberOfRetriesExceeded|retrying/i);
    expect(code).toBe(1);
  });
});

describeWithBroker('kinesis', 'config check --connect: kinesis', (kinesis) => {
  let dynamodbUrl = '';
  const stream = uniqueName('check');
  let admin: ReturnType<ReturnType<typeof adapterFor>['createAdmin']>;
  const base = (kinesisSection: object) => ({
    broker: {
      type: 'kinesis',
      kinesis: {
        region: kinesis.region,
        endpoint: kinesis.url,
        credentials: kinesis.credentials,
        leases: { type: 'dynamodb', endpoint: dynamodbUrl },
        ...kinesisSection,
      },
    },
    deadLetter: { type: 'broker', destination: '{source}.dlq' },
  });

  beforeAll(async () => {
    dynamodbUrl = requireBroker('dynamodb').url;
    admin = adapterFor(localConfig({ kinesis })).createAdmin();
    await admin.createDestination(stream, { partitions: 2 });
    await admin.createDestination(`${stream}.dlq`, { partitions: 1 });
  });
  afterAll(async () => {
    await admin.deleteDestination(stream).catch(() => undefined);
    await admin.deleteDestination(`${stream}.dlq`).catch(() => undefined);
    await admin.close();
  });

  it('passes when the stream and the dead-letter stream are ACTIVE; says the lease table will be created', async () => {
    const application = uniqueName('app');
    const { code, stdout } = await check(base({ stream, application }));
    expect(lines(stdout)).toEqual([
      `  ok      kinesis stream ${stream} (${kinesis.url}): ACTIVE, 2 open shard(s)`,
      `  ok      lease table ${application} (${dynamodbUrl}): does not exist: created at start (leases.createTable: true)`,
      `  ok      dead-letter stream ${stream}.dlq (${kinesis.url}): ACTIVE, 1 open shard(s)`,
    ]);
    expect(code).toBe(0);
  });

  it('fails (exit 1) on a missing stream, and on a missing lease table Sluice may not create', async () => {
    const missing = uniqueName('missing');
    const application = uniqueName('app');
    const { code, stdout } = await check(base({ stream: missing, application, leases: { endpoint: dynamodbUrl, createTable: false } }));
    expect(lines(stdout)).toEqual([
      `  FAILED  kinesis stream ${missing} (${kinesis.url}): does not exist`,
      `  FAILED  lease table ${application} (${dynamodbUrl}): does not exist, and leases.createTable is false: create it or allow Sluice to`,
      `  FAILED  dead-letter stream ${missing}.dlq (${kinesis.url}): does not exist (Kinesis creates no stream on publish: create it)`,
    ]);
    expect(code).toBe(1);
  });

  it('fails fast on an endpoint that cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout } = await check(base({ stream, endpoint: url }), '--timeout', '3s');
    expect(stdout).toContain(`  FAILED  kinesis stream ${stream} (${url}): unreachable: connect ECONNREFUSED`);
    expect(code).toBe(1);
  });
});

describeWithBroker('pubsub', 'config check --connect: pubsub', (endpoint) => {
  const pubsub = pubsubTestConfig(endpoint);
  const admin = pubsubTestAdapter(pubsub).createAdmin();
  const base = (section: object) => ({
    broker: { type: 'pubsub', pubsub: { endpoint: pubsub.endpoint, projectId: pubsub.projectId, ...section } },
    deadLetter: { type: 'broker', destination: '{source}.dlq' },
  });

  beforeAll(async () => {
    await admin.createDestination(pubsub.topic); // the topic and the subscription on it
    await admin.createDestination(`${pubsub.subscription}.dlq`);
    // What keeps the dead letters for `sluice replay` (deploy/gcp/README.md creates it with the topic).
    const client = createClient(pubsub);
    await ensureReplaySubscription(client, `${pubsub.subscription}.dlq`, `${pubsub.subscription}.dlq-replay`, pubsub);
    await client.close();
  });
  afterAll(async () => {
    await admin.deleteDestination(pubsub.topic).catch(() => undefined);
    await admin.close();
  });

  it('passes when the subscription, its topic and the dead-letter topic exist', async () => {
    const { code, stdout } = await check(base({ topic: pubsub.topic, subscription: pubsub.subscription }));
    expect(lines(stdout)).toEqual([
      expect.stringMatching(
        new RegExp(`^ {2}ok {6}pubsub subscription ${pubsub.subscription} \\(emulator ${pubsub.endpoint}\\): on topic ${pubsub.topic}, `),
      ),
      `  ok      pubsub topic ${pubsub.topic}: exists`,
      `  ok      dead-letter topic ${pubsub.subscription}.dlq: exists`,
      `  ok      replay subscription ${pubsub.subscription}.dlq-replay: exists: dead letters are kept for sluice replay`,
    ]);
    expect(code).toBe(0);
  });

  it('fails (exit 1) on a subscription that does not exist unless Sluice is to create it', async () => {
    const missing = uniqueName('missing');
    const { code, stdout } = await check(base({ topic: missing, subscription: missing }));
    expect(stdout).toContain(
      `  FAILED  pubsub subscription ${missing} (emulator ${pubsub.endpoint}): does not exist: create it, or set broker.pubsub.createResources: true (development)`,
    );
    expect(stdout).toContain(`  FAILED  dead-letter topic ${missing}.dlq: does not exist`);
    expect(stdout).toContain(
      `  FAILED  replay subscription ${missing}.dlq-replay: does not exist: dead letters would not be kept for sluice replay`,
    );
    expect(code).toBe(1);
    const created = await check(base({ topic: missing, subscription: missing, createResources: true }));
    expect(created.stdout).toContain('does not exist: created at start (createResources: true)');
    expect(created.stdout).toContain(
      `replay subscription ${missing}.dlq-replay: does not exist: created with the topic before the first dead letter`,
    );
    expect(created.code).toBe(0);
  });

  it('fails within the timeout on a server that cannot be reached', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { code, stdout } = await check(base({ endpoint: address, subscription: 's' }), '--timeout', '2s');
    expect(lines(stdout)).toEqual([`  FAILED  pubsub subscription s (emulator ${address}): no answer within 2000 ms`]);
    expect(code).toBe(1);
  });
});

describeWithBroker('nats', 'config check --connect: nats', (endpoint) => {
  const config = natsTestConfig(endpoint);
  const { stream, consumer } = config;
  const base = (section: object) => ({
    broker: { type: 'nats', nats: { servers: endpoint.servers, ...section } },
    deadLetter: { type: 'broker', destination: '{source}.dlq' },
  });
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectNats(config, 'connect-test');
    const jsm = await manager(nc, config);
    await ensureStream(jsm, config);
    await ensureConsumer(jsm, config);
    await jsm.streams.add({ name: streamNameOf(`${stream}.dlq`), subjects: [`${stream}.dlq`] });
  });
  afterAll(async () => {
    const jsm = await manager(nc, config);
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(streamNameOf(`${stream}.dlq`)).catch(() => undefined);
    await nc.close();
  });

  it('passes when the servers answer and the stream, the durable consumer and a stream for the dead letters exist', async () => {
    const { code, stdout } = await check(base({ stream, consumer }));
    expect(lines(stdout)).toEqual([
      expect.stringMatching(/^ {2}ok {6}nats servers 127\.0\.0\.1:\d+: JetStream enabled, \d+ stream\(s\) in the account$/),
      `  ok      stream ${stream}: 0 message(s), subjects ${stream}`,
      `  ok      durable consumer ${consumer}: 0 message(s) not yet delivered, 0 awaiting ack`,
      `  ok      dead-letter subject ${stream}.dlq: captured by stream ${streamNameOf(`${stream}.dlq`)}`,
    ]);
    expect(code).toBe(0);
  });

  it('fails (exit 1) on a missing stream, consumer or dead-letter stream unless Sluice is to create them, naming the key', async () => {
    const missing = uniqueName('missing').replace(/[^A-Za-z0-9_-]/g, '_');
    const absent = await check(base({ stream: missing, consumer }));
    expect(absent.stdout).toContain(
      `  FAILED  stream ${missing}: does not exist (broker.nats.stream): create it, or set broker.nats.createResources: true (development)`,
    );
    expect(absent.stdout).toContain(`  FAILED  dead-letter subject ${missing}.dlq: no stream captures it`);
    expect(absent.code).toBe(1);
    const noConsumer = await check(base({ stream, consumer: 'nobody' }));
    expect(noConsumer.stdout).toContain(`  FAILED  durable consumer nobody: does not exist on stream ${stream} (broker.nats.consumer)`);
    expect(noConsumer.code).toBe(1);
    const created = await check(base({ stream: missing, consumer, createResources: true }));
    expect(created.stdout).toContain(`  ok      stream ${missing}: does not exist: created at start (createResources: true)`);
    expect(created.stdout).toContain(
      `  ok      dead-letter subject ${missing}.dlq: no stream captures it: stream ${missing}_dlq created on the first dead letter`,
    );
    expect(created.code).toBe(0);
  });

  it('fails within the timeout on servers that cannot be reached', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { code, stdout } = await check(base({ servers: [address] }), '--timeout', '2s');
    expect(lines(stdout)).toHaveLength(1);
    expect(lines(stdout)[0]).toMatch(new RegExp(`^ {2}FAILED  nats servers ${address}: `));
    expect(code).toBe(1);
  });
});
