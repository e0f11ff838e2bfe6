// The Pub/Sub client's lease schedule after an outage (adapters/pubsub/lease-latency.ts): a modAck
// that hung through the outage must not count as the client's usual round trip. Fails when a
// client upgrade changes the internals the cap relies on, rather than letting it lapse silently.
import { PubSub } from '@google-cloud/pubsub';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { capLeaseLatency, MAX_COUNTED_MODACK_SECONDS } from '../../adapters/pubsub/lease-latency.ts';

describe('capLeaseLatency', () => {
  it('caps what a modAck round trip counts for, so the next extension is never scheduled in the past', async () => {
    const client = new PubSub({ projectId: 'sluice-unit', apiEndpoint: '127.0.0.1:1' });
    const subscription = capLeaseLatency(client.subscription('s'), pino({ level: 'silent' }));
    const subscriber = (
      subscription as unknown as { _subscriber: { _latencies: { add(s: number): void }; modAckLatency: number; ackDeadline: number } }
    )._subscriber;
    for (let i = 0; i < 100; i++) subscriber._latencies.add(25); // modAcks that hung through a 25 s outage
    expect(subscriber.modAckLatency).toBeLessThanOrEqual(MAX_COUNTED_MODACK_SECONDS * 1000 + 1000);
    expect(subscriber.ackDeadline * 1000 * 0.9 - subscriber.modAckLatency).toBeGreaterThan(0);
    await client.close();
  });
});
