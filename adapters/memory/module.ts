import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { BrokerAdapter } from '../../src/broker/contract.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryAdapter } from './memory-adapter.ts';

export function createAdapter(config: MemoryConfig, _deps: AdapterDeps): BrokerAdapter {
  return new MemoryAdapter(config);
}
