import { runContractSuite } from '../../contract/universal-suite.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

describeWithKafka('kafka adapter', (endpoint) => {
  runContractSuite({
    name: 'kafka',
    timeoutMs: 60_000,
    async setup({ partitions }) {
      const topic = uniqueName('contract');
      const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group: `${topic}-group`, missingTopicGraceMs: 3_000 });
      const admin = adapter.createAdmin();
      await admin.createDestination(topic, { partitions });
      return {
        adapter,
        destination: topic,
        async teardown() {
          await admin.deleteDestination(topic);
          await admin.close();
        },
      };
    },
  });
});
