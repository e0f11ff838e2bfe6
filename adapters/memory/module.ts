import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryAdapter } from './memory-adapter.ts';

export function createAdapter(config: MemoryConfig, deps: AdapterDeps): ToolingAdapter {
  return new MemoryAdapter(config, undefined, deps.audit);
}

/** Reads `destination` as `group`; the synthetic load is off (the benchmark brings its own). */
export function retarget(config: MemoryConfig, destination: string, group: string): MemoryConfig {
  return { ...config, topic: destination, group, load: { ...config.load, enabled: false } };
}
