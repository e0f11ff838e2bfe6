import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryAdapter } from './memory-adapter.ts';

export function createAdapter(config: MemoryConfig, deps: AdapterDeps): ToolingAdapter {
  return new MemoryAdapter(config, undefined, deps.audit);
}

/**
 * `sluice replay` runs in a process of its own, whose memory broker starts empty: the dead letters
 * it is asked for lived in the process that wrote them. Without this it read an empty topic and
 * reported "replayed 0 events", exit 0, as if there had been none.
 */
export const replayUnsupported =
  'the memory broker lives in the process that runs it, so its dead letters are gone with that process and `sluice replay` (a new process) cannot read them: send dead letters to a file (deadLetter.type: file) or to a durable broker (deadLetter.broker), and replay from there with that broker configured';

/** Reads `destination` as `group`; the synthetic load is off (the benchmark brings its own). */
export function retarget(config: MemoryConfig, destination: string, group: string): MemoryConfig {
  return { ...config, topic: destination, group, load: { ...config.load, enabled: false } };
}
