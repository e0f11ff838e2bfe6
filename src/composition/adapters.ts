/**
 * The composition root's adapter registry: the one file under src/ that names adapters/. Every
 * other part of Sluice (the container, config validation, the CLI, benchmarks) gets adapters
 * from here, by `broker.type`, and sees them only through the runtime contract
 * (src/broker/contract.ts) and the tooling contract (src/broker/tooling.ts).
 * test/unit/architecture.test.ts enforces it.
 *
 * Dynamic imports keep every SDK out of the process except the configured one's.
 */
import type { ZodType } from 'zod';
import { SluiceError } from '../errors.ts';
import type { AdapterModule, BenchHooks } from '../broker/tooling.ts';

interface AdapterEntry {
  /** The adapter's config schema: a file that imports no SDK, so checking config loads none. */
  schema(): Promise<ZodType>;
  /** The adapter itself, and with it its SDK: imported only for the configured type. */
  module(): Promise<AdapterModule>;
  /** Its benchmark hooks (adapters/<type>/bench-hooks.ts), for brokers that have a benchmark of their own. */
  bench?(): Promise<BenchHooks>;
}

/** The brokers Sluice knows, by `broker.type`. */
export const adapters: Readonly<Record<string, AdapterEntry>> = {
  memory: {
    schema: async () => (await import('../../adapters/memory/config.ts')).memoryConfigSchema,
    module: () => import('../../adapters/memory/module.ts'),
    bench: async () => (await import('../../adapters/memory/bench-hooks.ts')).benchHooks,
  },
  kafka: {
    schema: async () => (await import('../../adapters/kafka/config.ts')).kafkaConfigSchema,
    module: () => import('../../adapters/kafka/module.ts'),
    bench: async () => (await import('../../adapters/kafka/bench-hooks.ts')).benchHooks,
  },
  kinesis: {
    schema: async () => (await import('../../adapters/kinesis/config.ts')).kinesisConfigSchema,
    module: () => import('../../adapters/kinesis/module.ts'),
    bench: async () => (await import('../../adapters/kinesis/bench-hooks.ts')).benchHooks,
  },
  pubsub: {
    schema: async () => (await import('../../adapters/pubsub/config.ts')).pubsubConfigSchema,
    module: () => import('../../adapters/pubsub/module.ts'),
    bench: async () => (await import('../../adapters/pubsub/bench-hooks.ts')).benchHooks,
  },
  nats: {
    schema: async () => (await import('../../adapters/nats/config.ts')).natsConfigSchema,
    module: () => import('../../adapters/nats/module.ts'),
    bench: async () => (await import('../../adapters/nats/bench-hooks.ts')).benchHooks,
  },
  http: {
    schema: async () => (await import('../../adapters/http/config.ts')).httpConfigSchema,
    module: () => import('../../adapters/http/module.ts'),
  },
};

export const brokerTypes = (): string[] => Object.keys(adapters);

function entry(type: string): AdapterEntry {
  const found = adapters[type];
  if (!found) throw new SluiceError(`unknown broker "${type}" (known: ${brokerTypes().join(', ')})`);
  return found;
}

/** `type`'s benchmark hooks; an error naming the broker if it has none. */
export async function benchHooksFor(type: string): Promise<BenchHooks> {
  const load = entry(type).bench;
  if (!load) throw new SluiceError(`broker ${type} has no benchmark hooks (adapters/${type}/bench-hooks.ts)`);
  return load();
}

/**
 * For tools: `section` (a broker.<type> config section as a user writes it) validated by the
 * adapter's schema with its defaults, and the adapter's module. Throws the schema's error.
 */
export async function toolingFor<Config = Record<string, unknown>>(
  type: string,
  section: unknown,
): Promise<{ config: Config; module: AdapterModule }> {
  const found = entry(type);
  const config = (await found.schema()).parse(section) as Config;
  return { config, module: await found.module() };
}
