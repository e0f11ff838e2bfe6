import { parentPort, workerData } from 'node:worker_threads';
import type { OutgoingEvent } from '../broker/contract.ts';
import { runProducer, type ProducerOptions } from './producer.ts';

const port = parentPort!;
const pending = new Map<number, () => void>();
let nextId = 0;
port.on('message', (message: { type: string; id: number }) => {
  if (message.type === 'published') {
    pending.get(message.id)?.();
    pending.delete(message.id);
  }
});

/** Publishing = handing the batch to the consumer process's memory broker and awaiting it. */
function publish(events: OutgoingEvent[]): Promise<void> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    port.postMessage({ type: 'publish', id, events: events.map((event) => ({ key: event.key, payload: event.payload })) });
  });
}

const report = await runProducer(publish, workerData as ProducerOptions, (counts) => port.postMessage({ type: 'progress', ...counts }));
port.postMessage({ type: 'done', report });
