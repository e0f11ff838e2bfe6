import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Pipeline } from './core/pipeline.ts';
import type { SluiceConfig } from './config/schema.ts';
import { createContainer } from './di/container.ts';
import { TOKENS } from './di/tokens.ts';
import type { Handler, HandlerWrapper } from './handler/handler.ts';
import { withJsonDecode } from './handler/decode.ts';
import { builtinHandlers } from './handler/load.ts';
import { withRetry } from './handler/retry.ts';
import { withTimeout } from './handler/timeout.ts';
import { type FaultInjection, installFaults } from './faults/install.ts';
import { MetricsServer } from './metrics/http-server.ts';
import { registerPipelineMetrics } from './metrics/prometheus.ts';
import { loadEventTracer } from './tracing/load.ts';

/** Applies wrappers so that the first one listed is the outermost. */
export function wrap(handler: Handler, wrappers: HandlerWrapper[]): Handler {
  return wrappers.reduceRight((next, wrapper) => wrapper(next), handler);
}

/**
 * One running Sluice: the configured broker's source feeding the core pipeline, the metrics and
 * health server, the dead-letter destination. `stop()` shuts down gracefully.
 */
export class Sluice {
  private metricsServer: MetricsServer | undefined;
  /** The port /metrics listens on (useful with `metrics.port: 0`). */
  metricsPort: number | undefined;

  private constructor(
    readonly config: SluiceConfig,
    readonly pipeline: Pipeline,
    readonly registry: Registry,
    private readonly logger: Logger,
    /** Fault injection, when `faults.enabled`. */
    readonly faults: FaultInjection | undefined,
    /** Started before the source: the forward handler connects its destination broker. */
    private readonly handler: { start?(): Promise<void> },
  ) {}

  /**
   * Builds Sluice for a validated config. `options.handler` replaces the configured handler
   * module (benchmarks and embedding); the wrappers (decode, retry, timeout) still apply, inside
   * `options.wrap` when one is given.
   */
  static async create(
    config: SluiceConfig,
    logger: Logger,
    options: { registry?: Registry; handler?: Handler; wrap?: HandlerWrapper } = {},
  ): Promise<Sluice> {
    const container = await createContainer(config, logger, options);
    const adapter = container.get(TOKENS.BrokerAdapter);
    const registry = container.get(TOKENS.Registry);
    const user = options.handler ? { handler: options.handler, close: async () => undefined } : container.get(TOKENS.UserHandler);
    const deadLetter = container.get(TOKENS.DeadLetter);
    const audit = container.get(TOKENS.AckAudit);
    const abort = new AbortController();
    const wrappers: HandlerWrapper[] = options.wrap ? [options.wrap] : [];
    if (config.handler.decode === 'json') wrappers.push(withJsonDecode());
    wrappers.push(withRetry(config.handler.retry, abort.signal));
    if (config.handler.timeoutMs > 0) wrappers.push(withTimeout(config.handler.timeoutMs));
    // Innermost, where the user's handler would fail or hang: retry and timeout see injected faults as real ones.
    const faults = installFaults(config.faults, logger, registry, adapter.type, abort.signal);
    if (faults) wrappers.push(faults.handlerWrapper);
    const source = adapter.createSource();
    const tracer = await loadEventTracer(config.tracing, adapter.type, logger);
    const pipeline = new Pipeline(
      {
        broker: adapter.type,
        queue: config.queue,
        pool: { size: config.pool.size, orderByKey: config.pool.orderByKey },
        shutdownTimeoutMs: config.shutdown.timeoutMs,
        stallTimeoutMs: config.readiness.stallTimeoutMs,
      },
      {
        source: faults ? faults.wrapSource(source) : source,
        handler: wrap(user.handler, wrappers),
        deadLetter,
        audit,
        logger,
        abort,
        onClose: () => user.close(),
        tracer,
        // A handler of the user's (a module, or one passed in) may start spans of its own; the
        // built-ins do not, and read context.span where they propagate it (forward).
        activeSpan: options.handler !== undefined || (config.handler.forward === undefined && !(config.handler.module in builtinHandlers)),
      },
    );
    registerPipelineMetrics(registry, pipeline, adapter.type);
    return new Sluice(config, pipeline, registry, logger, faults, user);
  }

  async start(): Promise<void> {
    if (this.config.metrics.enabled) {
      const routes: Record<string, FaultInjection['route']> = this.faults ? { '/faults': this.faults.route } : {};
      this.metricsServer = new MetricsServer(this.registry, this.pipeline, this.config.metrics.host, this.config.metrics.port, routes);
      this.metricsPort = await this.metricsServer.start();
    }
    try {
      await this.handler.start?.();
      await this.pipeline.start();
    } catch (error) {
      await this.metricsServer?.close();
      throw error;
    }
    this.logger.info(
      {
        broker: this.config.broker.type,
        queue: this.config.queue,
        pool: this.config.pool,
        handler: this.config.handler.forward
          ? `forward to ${this.config.handler.forward.broker.type} ${this.config.handler.forward.destination}`
          : this.config.handler.module,
        metricsPort: this.metricsPort,
      },
      'sluice running',
    );
  }

  async stop(): Promise<void> {
    await this.pipeline.stop();
    await this.metricsServer?.close();
    this.logger.info({ stats: { received: this.pipeline.stats.received, processed: this.pipeline.stats.processed } }, 'sluice stopped');
  }
}
