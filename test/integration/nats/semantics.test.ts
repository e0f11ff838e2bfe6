// What the NATS adapter promises beyond the universal contract: in-progress heartbeats keep a
// message Sluice holds past ack_wait from being redelivered, and a message delivered more than
// maxDeliver times goes to the dead-letter subject (in Sluice's dead-letter format) instead of
// the handler.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, expect, it } from 'vitest';
import { streamNameOf } from '../../../adapters/nats/nats-publisher.ts';
import type { Source } from '../../../src/broker/contract.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithNats, natsTestAdapter, natsTestConfig } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNats('nats adapter semantics', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  const track = (source: Source) => {
    cleanups.push(() => source.close());
    return source;
  };

  it('keeps a message it holds past ack_wait from being redelivered (working heartbeats)', async () => {
    const config = natsTestConfig(endpoint, { ackWaitMs: 1_000 });
    const adapter = natsTestAdapter(config);
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const source = track(adapter.createSource());
    const sink = new CollectingSink(10);
    await source.start(sink);
    cleanups.push(() => adapter.createAdmin().deleteDestination(config.stream));
    await publisher.publish(config.stream, [{ key: 'slow', payload: Buffer.from('held') }]);
    await eventually(() => sink.events.length >= 1, 20_000, 'the event');
    // Held (a slow handler) for four ack waits: without heartbeats it would come back three times.
    await sleep(4_000);
    expect(sink.events.length, 'redelivered while held').toBe(1);
    sink.events[0]!.ack();
  });

  it('sends a message past maxDeliver to the dead-letter subject instead of the handler', async () => {
    const config = natsTestConfig(endpoint, { maxDeliver: 2, nackDelayMs: 50 });
    const adapter = natsTestAdapter(config);
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const source = track(adapter.createSource());
    const sink = new CollectingSink(10);
    await source.start(sink);
    const dlqSubject = `${config.stream}.dlq`;
    cleanups.push(() => adapter.createAdmin().deleteDestination(config.stream));
    cleanups.push(() => adapter.createAdmin().deleteDestination(streamNameOf(dlqSubject)));
    await publisher.publish(config.stream, [{ key: 'poison', payload: Buffer.from('poison'), headers: { 'x-a': '1' } }]);
    await eventually(() => sink.events.length >= 1, 20_000, 'the first delivery');
    sink.events[0]!.nack(new Error('fails'));
    await eventually(() => sink.events.length >= 2, 20_000, 'the second delivery');
    expect(sink.events[1]!.attempt).toBe(2);
    sink.events[1]!.nack(new Error('fails again'));

    // The stream the publisher created for the dead-letter subject (createResources).
    const dlq = natsTestAdapter({ ...config, stream: streamNameOf(dlqSubject), subjects: [dlqSubject], consumer: 'check' });
    const reader = track(dlq.createSource());
    const dead = new CollectingSink(10, true);
    // The third delivery creates the dead-letter stream (createResources): start once it exists.
    const nc = await connect({ servers: endpoint.servers });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    for (let tries = 0; ; tries++) {
      if (
        await jsm.streams.info(streamNameOf(dlqSubject)).then(
          () => true,
          () => false,
        )
      )
        break;
      if (tries > 200) throw new Error(`no stream for ${dlqSubject} after 20 s`);
      await sleep(100);
    }
    await reader.start(dead);
    await eventually(() => dead.events.length >= 1, 20_000, 'the dead letter');
    const letter = dead.events[0]!;
    expect(letter.payload.toString()).toBe('poison');
    expect(letter.key).toBe('poison');
    expect(letter.headers['x-a']).toBe('1');
    expect(letter.headers['sluice-attempts']).toBe('2');
    expect(letter.headers['sluice-error']).toMatch(/maxDeliver/);
    await sleep(500);
    expect(sink.events.length, 'the handler never saw a third delivery').toBe(2);
  });
});
