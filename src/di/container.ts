import { Container, ContainerModule } from 'inversify';
import type { Logger } from 'pino';
import { type OpenMetricsContentType, Registry } from 'prom-client';
import { type AckAudit, FileAckAudit } from '../audit/ack-audit.ts';
import type { AdapterModule } from '../broker/tooling.ts';
import { adapters } from '../composition/adapters.ts';
import type { SluiceConfig } from '../config/schema.ts';
import type { DeadLetterSink } from '../dead-letter/dead-letter.ts';
import { deadLetterTopicsOf } from '../dead-letter/dead-letter-topics.ts';
import { FileDeadLetter } from '../dead-letter/file-dead-letter.ts';
import { PublisherDeadLetter } from '../dead-letter/publisher-dead-letter.ts';
import { ConfigError } from '../errors.ts';
import { loadHandler } from '../handler/load.ts';
import { threadedHandler } from '../handler/threads.ts';
import { TOKENS, type LoadedHandler } from './tokens.ts';
import type { ForwardConfig } from '../bridge/forward-config.ts';
import { Forwarder } from '../bridge/forwarder.ts';
import { ForwardMetrics } from '../bridge/forward-metrics.ts';

/**
 * The container module of one adapter: binds `token` to the adapter built from its config
 * section. Importing the adapter's module (and so its SDK) happens here, for the types in use only.
 */
export async function brokerContainerModule(type: string, section: unknown, token: typeof TOKENS.BrokerAdapter): Promise<ContainerModule> {
  const entry = adapters[type];
  if (!entry) throw new ConfigError('broker.type', `unknown broker "${type}"`);
  const module: AdapterModule = await entry.module();
  return new ContainerModule(({ bind }) => {
    bind(token)
      .toDynamicValue((context) =>
        module.createAdapter(section as never, {
          logger: context.get(TOKENS.Logger).child({ broker: type }),
          registry: context.get(TOKENS.Registry),
          audit: token === TOKENS.BrokerAdapter ? context.get(TOKENS.AckAudit) : undefined,
          deadLetterTopics: token === TOKENS.BrokerAdapter ? deadLetterTopicsOf(context.get(TOKENS.Config)) : undefined,
        }),
      )
      .inSingletonScope();
  });
}

export interface ContainerOverrides {
  registry?: Registry;
  /** A handler given in code: the configured module is then not loaded. */
  handler?: unknown;
}

/** Wires Sluice for a validated config. */
export async function createContainer(config: SluiceConfig, logger: Logger, overrides: ContainerOverrides = {}): Promise<Container> {
  const container = new Container();
  container.bind(TOKENS.Config).toConstantValue(config);
  container.bind(TOKENS.Logger).toConstantValue(logger);
  // Exemplars exist only in OpenMetrics: with `tracing.exemplars` /metrics speaks it (Prometheus
  // negotiates it by itself); otherwise the classic text format, as before.
  let registry = overrides.registry;
  if (!registry) {
    registry = new Registry();
    if (config.tracing.exemplars)
      (registry as unknown as Registry<OpenMetricsContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  }
  container.bind(TOKENS.Registry).toConstantValue(registry);

  const type = config.broker.type;
  const { file: auditFile, flushIntervalMs } = config.audit;
  container
    .bind(TOKENS.AckAudit)
    .toDynamicValue((): AckAudit | undefined => (auditFile ? new FileAckAudit(auditFile, type, flushIntervalMs) : undefined))
    .inSingletonScope();
  container.load(await brokerContainerModule(type, config.broker[type], TOKENS.BrokerAdapter));

  const dlq = config.deadLetter;
  if (dlq.type === 'broker') {
    if (dlq.broker.type && dlq.broker.type !== type) {
      container.load(await brokerContainerModule(dlq.broker.type, dlq.broker[dlq.broker.type], TOKENS.DeadLetterAdapter));
    } else {
      container.bind(TOKENS.DeadLetterAdapter).toService(TOKENS.BrokerAdapter);
    }
  }
  container
    .bind(TOKENS.DeadLetter)
    .toDynamicValue((context): DeadLetterSink | undefined => {
      if (dlq.type === 'file') return new FileDeadLetter(dlq.path);
      if (dlq.type === 'broker') {
        const adapter = context.get(TOKENS.DeadLetterAdapter);
        const publisher = adapter.createDeadLetterPublisher?.() ?? adapter.createPublisher();
        return new PublisherDeadLetter(publisher, dlq.destination, adapter.type);
      }
      return undefined;
    })
    .inSingletonScope();

  if (overrides.handler) return container;
  if (config.handler.forward) {
    await bindForwarder(container, config, config.handler.forward);
    return container;
  }
  const handler: LoadedHandler =
    config.pool.mode === 'threads'
      ? threadedHandler(config.handler.module, config.pool.threads)
      : { handler: await loadHandler(config.handler.module), close: async () => undefined };
  if (config.pool.mode === 'threads') await loadHandler(config.handler.module); // fail fast on a bad module
  container.bind(TOKENS.UserHandler).toConstantValue(handler);
  return container;
}

/**
 * `handler.forward`: the forward handler, publishing through its own adapter's publisher. A
 * destination broker of the source's type without a section of its own is the source's adapter
 * (as for dead letters); any other is a second adapter instance, built by its own module.
 */
async function bindForwarder(container: Container, config: SluiceConfig, forward: ForwardConfig): Promise<void> {
  const type = forward.broker.type;
  if (type === config.broker.type && forward.broker[type] === undefined) {
    container.bind(TOKENS.ForwardAdapter).toService(TOKENS.BrokerAdapter);
  } else {
    container.load(await brokerContainerModule(type, forward.broker[type], TOKENS.ForwardAdapter));
  }
  container
    .bind(TOKENS.UserHandler)
    .toDynamicValue((context): LoadedHandler => {
      const adapter = context.get(TOKENS.ForwardAdapter);
      const logger = context.get(TOKENS.Logger).child({ forward: type });
      const metrics = new ForwardMetrics(context.get(TOKENS.Registry), type);
      return new Forwarder(forward, adapter.createPublisher(), config.pool.size, logger, metrics);
    })
    .inSingletonScope();
}
