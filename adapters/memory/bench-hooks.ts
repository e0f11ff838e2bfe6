/**
 * The in-process broker's benchmark hooks (src/broker/tooling.ts, BenchHooks): `npm run
 * bench:core` and the simulator's overhead measurement hold brokers of their own, each with its
 * backlog limit (the overload phase relies on the limit pausing its producer).
 */
import type { BenchHooks } from '../../src/broker/tooling.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryAdapter } from './memory-adapter.ts';
import { MemoryBroker } from './memory-broker.ts';

export const benchHooks: BenchHooks = {
  isolated: (config: MemoryConfig) => new MemoryAdapter(config, new MemoryBroker(config.maxBacklog)),
};
