import { dirname, join } from 'node:path';
import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { KinesisConfig } from './config.ts';
import { KinesisAdapter } from './kinesis-adapter.ts';

export { preflight } from './preflight.ts';
export { checkResources } from './resource-check.ts';

export function createAdapter(config: KinesisConfig, deps: AdapterDeps): ToolingAdapter {
  return new KinesisAdapter(config, { logger: deps.logger, registry: deps.registry, audit: deps.audit });
}

/**
 * Reads `destination` as application `group`: the lease table (or checkpoint file) and the
 * fan-out consumer are named after the group, so a fresh group starts with no checkpoints.
 */
export function retarget(config: KinesisConfig, destination: string, group: string): KinesisConfig {
  const leases = { ...config.leases, table: undefined };
  if (leases.type === 'file') leases.path = join(dirname(config.leases.path), `${group}.kinesis-checkpoints.json`);
  return { ...config, stream: destination, application: group, leases, consumer: { ...config.consumer, efoName: undefined } };
}
