// The universal adapter contract suite against kinesalite: once with file checkpoints (single
// instance), once with the DynamoDB lease table on dynalite.
import { runContractSuite } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

// A deleted stream is fatal after 2 s instead of a minute, so the fatal case stays short.
const soonFatal = { consumer: { fatalAfterMs: 2_000 } };

describeWithBroker('kinesis', 'kinesis contract (kinesalite, file checkpoints)', (kinesis) => {
  runContractSuite({
    name: 'kinesis, file checkpoints',
    timeoutMs: 30_000,
    async setup({ partitions }) {
      const { config, cleanup } = await freshStream(localConfig({ kinesis }, soonFatal), partitions);
      return { adapter: adapterFor(config), destination: config.stream, teardown: cleanup };
    },
  });
});

describeWithBroker('kinesis', 'kinesis contract (kinesalite, dynalite leases)', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    runContractSuite({
      name: 'kinesis, DynamoDB leases',
      timeoutMs: 30_000,
      async setup({ partitions }) {
        const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }, soonFatal), partitions);
        return { adapter: adapterFor(config), destination: config.stream, teardown: cleanup };
      },
    });
  });
});
