// Measures the heap bytes Sluice holds per queued event beyond its payload, from the real core:
// a memory-broker Pipeline whose one worker never finishes, so every delivered event stays in
// the queue; heap after a full GC with the queue full, minus the heap with the same records only
// in the broker, divided by the events queued. Run:
//   node --expose-gc --import tsx src/simulate/measure-overhead.ts [events] [payloadBytes]
// The figure is EVENT_OVERHEAD_BYTES in overhead.ts.
import pino from 'pino';
import { isolatedMemory } from '../bench/bench-adapters.ts';
import type { OutgoingEvent } from '../broker/contract.ts';
import { Pipeline } from '../core/pipeline.ts';

const events = Number(process.argv[2] ?? 200_000);
const payloadSize = Number(process.argv[3] ?? 1024);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};

const broker = await isolatedMemory({ topic: 'measure', partitions: 4, group: 'g', startFrom: 'earliest', maxBacklog: events + 1 });
const publisher = broker.createPublisher();
const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
const batch: OutgoingEvent[] = [];
for (let published = 0; published < events; published += batch.length) {
  batch.length = 0;
  for (let i = 0; i < Math.min(10_000, events - published); i++)
    batch.push({ key: keys[i % 1000], payload: Buffer.alloc(payloadSize, i % 251) });
  await publisher.publish('measure', batch);
}
const before = await settle();
const source = broker.createSource();
const pipeline = new Pipeline(
  {
    broker: 'memory',
    queue: { maxEvents: events, maxBytes: 2 ** 50, policy: 'block' },
    pool: { size: 1, orderByKey: false },
    shutdownTimeoutMs: 100,
    stallTimeoutMs: 60_000,
  },
  { source, handler: () => new Promise(() => undefined), logger: pino({ level: 'silent' }) },
);
await pipeline.start();
while (pipeline.stats.received < events) await new Promise((resolve) => setTimeout(resolve, 10));
const after = await settle();
const perEvent = (after - before) / pipeline.queue.depth;
process.stdout.write(
  `${JSON.stringify({ events: pipeline.queue.depth, payloadBytes: payloadSize, heapDeltaMB: Math.round((after - before) / 2 ** 20), overheadBytesPerEvent: Math.round(perEvent), node: process.version })}\n`,
);
process.exit(0);
