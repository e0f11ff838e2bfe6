/** The producer side of `sluice bench` for real brokers: its own process, the adapter's Publisher. */
import pino from 'pino';
import { Registry } from 'prom-client';
import { adapters } from '../broker/registry.ts';
import { dropHarmlessWarnings } from '../cli/harmless-warnings.ts';
import { errorMessage } from '../errors.ts';
import type { FromProducer, ProducerStart } from './messages.ts';
import { runProducer } from './producer.ts';

const send = (message: FromProducer) => process.send!(message);
// kafkajs' negative-timeout warning would break the parent's progress line (as `sluice run` drops it).
dropHarmlessWarnings();

process.on('message', (message: ProducerStart) => {
  const run = async () => {
    const module = await adapters[message.brokerType]!.module();
    const adapter = module.createAdapter(message.section as never, { logger: pino({ level: 'warn' }), registry: new Registry() });
    const publisher = adapter.createPublisher();
    await publisher.connect();
    send({ type: 'ready' });
    const report = await runProducer(
      (events) => publisher.publish(message.destination, events),
      message.options,
      (counts) => send({ type: 'progress', ...counts }),
    );
    await publisher.close();
    send({ type: 'done', report });
  };
  run().catch((error: unknown) => send({ type: 'error', message: errorMessage(error) }));
});
