import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { errorMessage, NotFoundError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { DeliveryLane, Lifecycle, withTimeout } from '../../src/source-kit/index.ts';
import { createClient, describeEndpoint, shortName } from './client.ts';
import type { PubSubConfig } from './config.ts';
import { flowControlFor, LeaseCounter, subscriberOptions } from './flow-lease.ts';
import { capLeaseLatency } from './lease-latency.ts';
import type { PubSubMetrics } from './metrics.ts';
import { OrderingGate, SUPERSEDED } from './ordering-gate.ts';
import { PubSubEvent, type PubSubEventOwner } from './pubsub-event.ts';
import { ReadyLane } from './ready-lane.ts';
import { RecentAcks } from './recent-acks.ts';
import { describeSubscription, ensureSubscription, type SubscriptionInfo } from './resources.ts';
import { StreamWatch } from './stream-watch.ts';

/**
 * Reads one subscription with streaming pull and delivers to the core, on the source kit
 * (src/source-kit: BaseEvent, DeliveryLane, Lifecycle, backoff and timeout).
 *
 * - Flow control and leases ({@link subscriberOptions}): the client holds at most `maxMessages` /
 *   `maxBytes` unacked messages (the core queue's capacity plus a batch plus what workers hold;
 *   allowExcessMessages false), and lease management extends their ack deadlines until Sluice
 *   acks them (up to lease.maxExtensionMinutes).
 * - Awaitable push ({@link ReadyLane}): messages arriving while a delivery is pending are
 *   collected (bounded by that flow control) and delivered as the next batch of at most
 *   sink.maxBatch, one pending delivery at a time.
 * - Redeliveries: a copy of a message this source still holds is joined to it (settled with it),
 *   a copy of one it acked lately is acked at once ({@link RecentAcks}); neither reaches the core.
 * - Streams ({@link StreamWatch}): errors, a reachability probe (the client retries a cut stream
 *   silently), reopening; health() is not connected while they say so.
 * - Ordered subscriptions: an {@link OrderingGate} hands the core one event per ordering key at a
 *   time so that a nacked event is not overtaken (see there).
 * - stop(): no more deliveries; what arrives meanwhile stays leased and is nacked by close().
 *   (stop does not wait for a pending delivery: it may wait for queue room, which the core frees
 *   only after stop.) close(): subscription.close() with the NackImmediately behaviour: everything
 *   the client still holds (never delivered, or delivered and not settled) is nacked, acks are
 *   flushed, then the connection closes. (WaitForProcessing is not used: the core already waited
 *   for in-flight events before close(), and messages the client received beyond flow control but
 *   never dispensed keep its inventory non-empty, so it would always run into its timeout.)
 */
export class PubSubSource implements Source, PubSubEventOwner {
  readonly sourceName: string;
  readonly commits = new CommitCounts();
  private readonly lifecycle = new Lifecycle<'starting' | 'running'>('pubsub source', {
    halt: async () => undefined,
    shutdown: () => this.shutdown(),
  });
  private client: PubSub | undefined;
  private subscription: Subscription | undefined;
  private info: SubscriptionInfo | undefined;
  private sink: EventSink | undefined;
  private gate: OrderingGate<PubSubEvent> | undefined;
  private ready: ReadyLane | undefined;
  private watch: StreamWatch | undefined;
  private exactlyOnce = false;
  /** Received from the client and not yet acked or nacked (in the adapter, the queue or a worker), by message id. */
  private readonly outstanding = new Map<string, PubSubEvent>();
  private readonly recentAcks: RecentAcks;
  private readonly leases: LeaseCounter;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly readHeld = () => this.gate?.heldCount ?? 0;

  constructor(
    private readonly config: PubSubConfig,
    private readonly metrics: PubSubMetrics,
    private readonly logger: Logger,
    private readonly audit?: AckAudit,
  ) {
    this.sourceName = shortName(config.subscription);
    this.recentAcks = new RecentAcks(config.redeliveries.rememberAcked, config.redeliveries.windowSeconds * 1000);
    this.commits.declare(this.sourceName);
    this.leases = new LeaseCounter(metrics);
  }

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('starting');
    const config = this.config;
    this.sink = sink;
    const client = createClient(config);
    this.client = client;
    let info: SubscriptionInfo;
    try {
      if (config.createResources) await ensureSubscription(client, config.topic, config);
      info = await describeSubscription(client, config);
    } catch (error) {
      await client.close().catch(() => undefined);
      this.client = undefined;
      if (error instanceof NotFoundError && !config.createResources) {
        throw new NotFoundError(
          `pubsub: subscription ${client.subscription(config.subscription).name} does not exist (${describeEndpoint(config)}); ` +
            'create it, or set broker.pubsub.createResources: true (development)',
          error,
        );
      }
      throw error;
    }
    this.info = info;
    this.exactlyOnce = info.exactlyOnceDelivery;
    const lifecycle = this.lifecycle;
    this.ready = new ReadyLane(
      new DeliveryLane(sink),
      () => lifecycle.stopped,
      (error) => this.logger.error({ error: errorMessage(error) }, 'pubsub delivery to the core failed'),
    );
    if (info.messageOrdering && config.ordering.guard !== 'off') {
      this.gate = new OrderingGate<PubSubEvent>(
        (event) => this.ready?.push(event),
        config.ordering.redeliveryWaitMs,
        config.ordering.guard,
        (key) => this.takeBackLater(key),
      );
      this.sweepTimer = setInterval(() => this.gate?.sweep(), Math.min(1000, config.ordering.redeliveryWaitMs));
      this.sweepTimer.unref();
    }
    const flowControl = flowControlFor(config, sink);
    const subscription = capLeaseLatency(client.subscription(config.subscription, subscriberOptions(config, flowControl)), this.logger);
    this.subscription = subscription;
    const outstanding = this.outstanding;
    this.watch = new StreamWatch(
      subscription,
      info.name,
      {
        get stopped() {
          return lifecycle.stopped;
        },
        get closed() {
          return lifecycle.closed;
        },
        get outstanding() {
          return outstanding.size;
        },
        fatal: (error) => sink.fatal(error),
      },
      config,
      this.metrics,
      this.logger,
    );
    this.watch.start();
    subscription.on('message', this.onMessage); // opens the streaming pull
    this.metrics.heldBySource.add(this.readHeld);
    lifecycle.to('running');
    this.logger.info(
      {
        subscription: info.name,
        topic: info.topic,
        endpoint: describeEndpoint(config),
        ordering: info.messageOrdering,
        orderingGuard: this.gate ? config.ordering.guard : 'off',
        exactlyOnce: info.exactlyOnceDelivery,
        deadLetterTopic: info.deadLetterTopic,
        flowControl,
        streams: config.streams,
      },
      'pubsub source started',
    );
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  health(): Health {
    return this.lifecycle.health('pubsub source', (state) => {
      if (this.lifecycle.closed) return { connected: false, detail: 'closed' }; // closing
      if (state !== 'running' || !this.watch) return { connected: false, detail: 'not started' };
      const problem = this.watch.problem();
      if (problem) return { connected: false, detail: problem };
      const held = this.gate ? `, ${this.gate.heldCount} held for ordering` : '';
      return { connected: true, detail: `pubsub subscription ${this.info!.name}: ${this.outstanding.size} outstanding${held}` };
    });
  }

  /**
   * The subscription's lag as far as this instance sees it: messages received and not yet acked
   * or nacked, and the publish time of the oldest of them. (The subscription's whole backlog,
   * num_undelivered_messages, is a Cloud Monitoring metric, not something the subscriber API
   * returns, and the emulator has no Monitoring.) Pub/Sub has no partitions: partition is ''.
   */
  *lag(): Iterable<PartitionLag> {
    if (this.lifecycle.state !== 'running' || this.lifecycle.closed) return;
    let oldestMs: number | undefined;
    for (const { timestamp } of this.outstanding.values()) if (oldestMs === undefined || timestamp < oldestMs) oldestMs = timestamp;
    yield { source: this.sourceName, partition: '', events: this.outstanding.size, oldestMs };
  }

  /** @internal called by PubSubEvent.ack */
  acked(event: PubSubEvent): void {
    if (this.lifecycle.closed) return;
    const message = event.message;
    const now = Date.now();
    this.outstanding.delete(message.id);
    this.recentAcks.add(message.id, now);
    this.metrics.ackLatency.observe((now - message.received) / 1000);
    this.audit?.acked(message.id); // where Sluice hands the ack to the client (which sends it in batches)
    if (event.copies) for (const copy of event.copies) this.ackCopy(copy);
    if (this.exactlyOnce) {
      message.ackWithResponse().then(
        () => this.commits.commit(this.sourceName),
        (error: unknown) => {
          this.commits.fail(this.sourceName);
          this.logger.warn({ id: message.id, error: errorMessage(error) }, 'pubsub ack not confirmed; the message will be redelivered');
        },
      );
    } else {
      // The client batches acks and reports nothing back: an ack sent counts as committed.
      message.ack();
      this.commits.commit(this.sourceName);
    }
    if (this.gate && event.key !== undefined) this.gate.settled(event, event.key, true);
  }

  /** @internal called by PubSubEvent.nack: Pub/Sub delivers the message again (not the kit's Redelivery). */
  nacked(event: PubSubEvent, reason?: Error): void {
    if (this.lifecycle.closed) return;
    this.outstanding.delete(event.message.id);
    this.metrics.nacks++;
    event.message.nack();
    if (event.copies) for (const copy of event.copies) copy.nack();
    // Nacks the gate asked for (later events of a nacked key) do not start a wait of their own.
    if (this.gate && event.key !== undefined && reason !== SUPERSEDED) this.gate.settled(event, event.key, false);
  }

  /** close(): settling is a no-op from here on; the client's NackImmediately close nacks what it holds. */
  private async shutdown(): Promise<void> {
    this.lifecycle.closed = true;
    clearInterval(this.sweepTimer);
    this.watch?.stop();
    this.recentAcks.clear();
    this.gate?.clear();
    this.ready?.clear();
    this.outstanding.clear(); // close() nacks them
    this.metrics.heldBySource.delete(this.readHeld);
    const subscription = this.subscription;
    if (subscription) {
      // NackImmediately: nacks everything the client still holds, flushes acks and nacks.
      await withTimeout(subscription.close(), this.config.closeTimeoutMs + 1000).catch((error: unknown) =>
        this.logger.warn(
          { error: errorMessage(error) },
          'pubsub subscription close failed; unacked messages are redelivered after their ack deadline',
        ),
      );
      subscription.removeListener('message', this.onMessage);
      this.watch?.detach();
    }
    await this.client?.close().catch(() => undefined);
  }

  /**
   * An event of `key` was nacked: the key's later events that the core has not started yet are
   * taken back (sink.discard) and nacked, with those still waiting here for delivery, so that
   * Pub/Sub delivers them again after the nacked one instead of letting them overtake it.
   * (At shutdown everything left is nacked anyway.)
   */
  private takeBackLater(key: string): void {
    if (this.lifecycle.stopped || !this.sink) return;
    const later: SourceEvent[] = this.sink.discard((event) => event instanceof PubSubEvent && event.owner === this && event.key === key);
    if (this.ready) later.push(...this.ready.takeBack((event) => event.key === key));
    for (const event of later) event.nack(SUPERSEDED);
  }

  private readonly onMessage = (message: Message): void => {
    if (this.lifecycle.closed) return; // the client nacks what it holds on close
    const metrics = this.metrics;
    metrics.received++;
    const now = Date.now();
    const attempt = message.deliveryAttempt;
    if (attempt > 0) {
      metrics.deliveryAttempts.observe(attempt);
      if (attempt > 1) metrics.redeliveries++;
    }
    this.watch?.alive(now);
    this.leases.watch(message);
    const held = this.outstanding.get(message.id);
    if (held) {
      // Delivered again while Sluice still holds it: settled with the first delivery.
      if (held.copies) held.copies.push(message);
      else held.copies = [message];
      metrics.redeliveries++;
      metrics.copiesJoined++;
      return;
    }
    if (this.recentAcks.has(message.id, now)) {
      // Delivered again after Sluice finished it: acked, not processed twice.
      metrics.redeliveries++;
      metrics.copiesAcked++;
      this.audit?.acked(message.id);
      this.ackCopy(message);
      return;
    }
    const event = new PubSubEvent(this, message);
    this.outstanding.set(message.id, event);
    if (this.gate && event.key !== undefined) this.gate.admit(event, event.key);
    else this.ready?.push(event);
  };

  /** Acks another delivery of a message already acked (a failure only means it comes once more). */
  private ackCopy(copy: Message): void {
    if (this.exactlyOnce) copy.ackWithResponse().catch(() => undefined);
    else copy.ack();
  }
}
