import type { Logger } from 'pino';
import type { Publisher } from '../broker/contract.ts';
import type { Handler } from '../handler/handler.ts';
import { compileDestination, type DestinationOf } from './destination-template.ts';
import type { ForwardConfig } from './forward-config.ts';
import type { ForwardMetrics } from './forward-metrics.ts';
import { outgoingFor, type ToOutgoing } from './outgoing.ts';
import { PublishBatcher } from './publish-batcher.ts';

/**
 * The built-in `forward` handler (`handler.forward`): publishes each event to a destination on
 * a broker of its own (a second adapter's publisher, wired in src/di/container.ts), and resolves
 * only once that broker confirmed the publish, so the core acks the source event only then. A
 * crash between the two leaves the source event unacked: it is delivered and forwarded again
 * (at-least-once: duplicates at the destination, never a loss).
 *
 * Failures take the core's usual paths: a publish error carries `retriable` (the adapters map
 * their SDK errors), so the retry wrapper tries again and then the dead-letter destination takes
 * the source event; an event the destination template cannot route is dead-lettered at once.
 *
 * Order: concurrent calls are coalesced per destination (./publish-batcher.ts) keeping their
 * order, and each publisher keeps the order of a key within a batch. Across batches, order per key
 * holds when the pool lets one event of a key in at a time (`pool.orderByKey: true`) and the
 * source delivers a key in order; the forwarder itself never reorders.
 */
// Bound as the container's UserHandler (src/di/tokens.ts, LoadedHandler), which it matches by shape:
// a helper does not import the composition root.
export class Forwarder {
  private readonly destinationOf: DestinationOf;
  private readonly toOutgoing: ToOutgoing;
  private readonly batcher: PublishBatcher;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly config: ForwardConfig,
    private readonly publisher: Publisher,
    /** The pool's size: how many calls can wait on a batch at once. */
    concurrency: number,
    private readonly logger: Logger,
    private readonly metrics?: ForwardMetrics,
  ) {
    this.destinationOf = compileDestination(config.destination);
    this.toOutgoing = outgoingFor(config);
    this.batcher = new PublishBatcher((destination, events) => this.publish(destination, events), { ...config.batch, concurrency });
  }

  /** Connects the destination's publisher: a destination broker that cannot be reached fails start-up. */
  async start(): Promise<void> {
    await this.connect();
    this.logger.info({ broker: this.config.broker.type, destination: this.config.destination }, 'forwarding');
  }

  readonly handler: Handler = (event, context) => {
    // Thrown synchronously for an unroutable event: not retriable, so it is dead-lettered at once.
    const destination = this.destinationOf(event);
    return this.batcher.add(destination, this.toOutgoing(event, context));
  };

  /** After the pool is idle: sends what is batched, waits for its confirmation, disconnects. */
  async close(): Promise<void> {
    await this.batcher.close();
    if (this.connected) await this.publisher.close();
  }

  private async publish(destination: string, events: Parameters<Publisher['publish']>[1]): Promise<void> {
    await this.connect();
    const started = performance.now();
    let ok = false;
    try {
      await this.publisher.publish(destination, events);
      ok = true;
    } finally {
      this.metrics?.published(events.length, (performance.now() - started) / 1000, ok);
    }
  }

  private connect(): Promise<void> {
    this.connected ??= this.publisher.connect().catch((error: unknown) => {
      this.connected = undefined; // the next publish tries again
      throw error;
    });
    return this.connected;
  }
}
