// A bare @google-cloud/pubsub subscriber, no Sluice: records each message's number (payload
// `{"n": …}`) to $OUT and only then acks it, so an event can be missing from $OUT only if it was
// never delivered. Started as a child process and killed with SIGKILL by emulator-ordering.test.ts.
//   ENDPOINT=host:port PROJECT=p SUB=s OUT=file [DELAY_MS=5] node bare-subscriber.mjs
import { openSync, writeSync } from 'node:fs';
import { Duration, PubSub } from '@google-cloud/pubsub';

const out = openSync(process.env.OUT, 'a');
const delayMs = Number(process.env.DELAY_MS ?? 5);
// universeDomain: without it the auth library probes the GCE metadata server even for an emulator.
const client = new PubSub({
  apiEndpoint: process.env.ENDPOINT,
  emulatorMode: true,
  projectId: process.env.PROJECT,
  universeDomain: 'googleapis.com',
});
const subscription = client.subscription(process.env.SUB, {
  flowControl: { maxMessages: 1_000, allowExcessMessages: false },
  // A killed client's leases expire within 10 s (the client's default stretches them to 10 min).
  maxAckDeadline: Duration.from({ seconds: 10 }),
});
subscription.on('error', (error) => console.error(`bare subscriber: ${error.code} ${error.message}`));
subscription.on('message', (message) => {
  setTimeout(() => {
    writeSync(out, `${JSON.parse(message.data.toString()).n}\n`);
    message.ack();
  }, delayMs);
});
