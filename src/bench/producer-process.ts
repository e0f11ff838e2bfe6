/** The producer side of `sluice bench` for real brokers: its own process, the adapter's Publisher. */
import pino from 'pino';
import { Registry } from 'prom-client';
import { adapters } from '../composition/adapters.ts';
import { dropHarmlessWarnings } from '../cli/harmless-warnings.ts';
import { errorMessage } from '../errors.ts';
import type { FromProducer, ProducerGo, ProducerStart } from './messages.ts';
import { runProducer } from './producer.ts';

const send = (message: FromProducer) => process.send!(message);
// kafkajs' negative-timeout warning would break the parent's progress line (as `sluice run` drops it).
dropHarmlessWarnings();

// `go` says when production starts: after every producer of the run has connected (run-broker.ts).
let go: (startMs: number) => void;
const started = new Promise<number>((resolve) => (go = resolve));

process.on('message', (message: ProducerStart | ProducerGo) => {
  if (message.type === 'go') return go(message.startMs);
  const run = async () => {
    const module = await adapters[message.brokerType]!.module();
    const adapter = module.createAdapter(message.section as never, { logger: pino({ level: 'warn' }), registry: new Registry() });
    const publisher = adapter.createPublisher();
    await publisher.connect();
    send({ type: 'ready' });
    const startMs = await started;
    const report = await runProducer(
      (events) => publisher.publish(message.destination, events),
      { ...message.options, startMs },
      (counts) => send({ type: 'progress', ...counts }),
    );
    await publisher.close();
    send({ type: 'done', report });
  };
  run().catch((error: unknown) => send({ type: 'error', message: errorMessage(error) }));
});
