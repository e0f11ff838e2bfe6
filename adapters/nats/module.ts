import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { NatsConfig } from './config.ts';
import { NatsAdapter } from './nats-adapter.ts';
import { streamNameOf } from './nats-publisher.ts';

export { checkResources } from './resource-check.ts';

export function createAdapter(config: NatsConfig, deps: AdapterDeps): ToolingAdapter {
  return new NatsAdapter(config, deps.logger, deps.registry, deps.audit);
}

/** Reads subject `destination` from its stream (`orders.dlq` → `orders_dlq`, as the publisher makes it) through consumer `group`. */
export function retarget(config: NatsConfig, destination: string, group: string): NatsConfig {
  return { ...config, stream: streamNameOf(destination), subjects: [destination], filterSubject: undefined, consumer: streamNameOf(group) };
}
