import type { ZodType } from 'zod';
import type { ConfigError } from '../errors.ts';
import type { BrokerAdapter } from './contract.ts';
import type { AdapterDeps } from './adapter-deps.ts';
import type { AdapterUse, CheckOptions, ResourceCheck } from './preflight.ts';

/** What an adapter's module (adapters/<type>/module.ts) exports. */
export interface AdapterModule {
  createAdapter(config: never, deps: AdapterDeps): BrokerAdapter;
  /**
   * A copy of a validated config section that reads `destination` (topic, stream, or topic with
   * its subscription) as consumer group / subscription `group`, and publishes there: benchmarks
   * and tests use it to run on fresh names.
   */
  retarget(config: never, destination: string, group: string): unknown;
  /**
   * Optional (`sluice config check`): what start-up requires beyond the schema, found without
   * connecting; every problem as a ConfigError naming its key. See ./preflight.ts.
   */
  preflight?(config: never, use: AdapterUse, env: NodeJS.ProcessEnv): Promise<ConfigError[]>;
  /**
   * Optional (`sluice config check --connect`): reaches the broker and each resource the section
   * names, one result per thing checked, each within `options.timeoutMs`. See ./preflight.ts.
   */
  checkResources?(config: never, use: AdapterUse, options: CheckOptions): AsyncIterable<ResourceCheck>;
}

interface AdapterEntry {
  /** The adapter's config schema: a file that imports no SDK, so checking config loads none. */
  schema(): Promise<ZodType>;
  /** The adapter itself, and with it its SDK: imported only for the configured type. */
  module(): Promise<AdapterModule>;
}

/**
 * The brokers Sluice knows, by `broker.type`. Dynamic imports keep every SDK out of the process
 * except the configured one's.
 */
export const adapters: Readonly<Record<string, AdapterEntry>> = {
  memory: {
    schema: async () => (await import('../../adapters/memory/config.ts')).memoryConfigSchema,
    module: () => import('../../adapters/memory/module.ts'),
  },
  kafka: {
    schema: async () => (await import('../../adapters/kafka/config.ts')).kafkaConfigSchema,
    module: () => import('../../adapters/kafka/module.ts'),
  },
  kinesis: {
    schema: async () => (await import('../../adapters/kinesis/config.ts')).kinesisConfigSchema,
    module: () => import('../../adapters/kinesis/module.ts'),
  },
  pubsub: {
    schema: async () => (await import('../../adapters/pubsub/config.ts')).pubsubConfigSchema,
    module: () => import('../../adapters/pubsub/module.ts'),
  },
  http: {
    schema: async () => (await import('../../adapters/http/config.ts')).httpConfigSchema,
    module: () => import('../../adapters/http/module.ts'),
  },
};

export const brokerTypes = (): string[] => Object.keys(adapters);
