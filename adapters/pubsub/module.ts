import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import { type PubSubConfig, replaySubscriptionOf } from './config.ts';
import { PubSubAdapter } from './pubsub-adapter.ts';

// No `preflight`: nothing a Pub/Sub section needs at start can be told without the server
// (the project comes from the credentials when not configured).
export { checkResources } from './resource-check.ts';

export function createAdapter(config: PubSubConfig, deps: AdapterDeps): ToolingAdapter {
  return new PubSubAdapter(config, deps.logger, deps.registry, deps.audit);
}

/** Reads topic `destination` through subscription `group` (BrokerAdmin.createDestination creates both). */
export function retarget(config: PubSubConfig, destination: string, group: string): PubSubConfig {
  return { ...config, topic: destination, subscription: group };
}

/** `sluice replay --from <topic>` reads the subscription that retained its dead letters since the first one. */
export function replayGroup(config: PubSubConfig, from: string): string | undefined {
  return replaySubscriptionOf(config, from);
}
