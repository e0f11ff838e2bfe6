import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { BrokerAdapter } from '../../src/broker/contract.ts';
import type { PubSubConfig } from './config.ts';
import { PubSubAdapter } from './pubsub-adapter.ts';

export function createAdapter(config: PubSubConfig, deps: AdapterDeps): BrokerAdapter {
  return new PubSubAdapter(config, deps.logger, deps.registry, deps.audit);
}

/** Reads topic `destination` through subscription `group` (BrokerAdmin.createDestination creates both). */
export function retarget(config: PubSubConfig, destination: string, group: string): PubSubConfig {
  return { ...config, topic: destination, subscription: group };
}
