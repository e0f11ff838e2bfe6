import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { NatsConfig } from './config.ts';
import { NatsAdapter } from './nats-adapter.ts';

export function createAdapter(config: NatsConfig, deps: AdapterDeps): ToolingAdapter {
  return new NatsAdapter(config, deps.logger, deps.registry, deps.audit);
}

/** Reads stream `destination` (subject `destination`) through durable consumer `group`. */
export function retarget(config: NatsConfig, destination: string, group: string): NatsConfig {
  return { ...config, stream: destination, subjects: [destination], filterSubject: undefined, consumer: group };
}
