import { memoryConfigSchema } from '../../adapters/memory/config.ts';
import { MemoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { runContractSuite } from '../contract/universal-suite.ts';

runContractSuite({
  name: 'memory',
  timeoutMs: 5_000,
  async setup({ partitions }) {
    const broker = new MemoryBroker();
    const topic = `contract-${Math.random().toString(36).slice(2, 8)}`;
    broker.createTopic(topic, partitions);
    const config = memoryConfigSchema.parse({ topic, partitions, group: `g-${topic}`, nackDelayMs: 10, commitIntervalMs: 20 });
    return { adapter: new MemoryAdapter(config, broker), destination: topic, teardown: async () => broker.deleteTopic(topic) };
  },
});
