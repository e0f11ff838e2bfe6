import { Duration, Message, type PubSub, type Subscription, type SubscriberOptions } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { errorMessage, NotFoundError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';
import { createClient, describeEndpoint, grpcCode, GrpcCode, shortName, toSluiceError } from './client.ts';
import type { PubSubConfig } from './config.ts';
import type { PubSubMetrics } from './metrics.ts';
import { OrderingGate, SUPERSEDED } from './ordering-gate.ts';
import { PubSubEvent, type EventOwner } from './pubsub-event.ts';
import { capLeaseLatency } from './lease-latency.ts';
import { Reachability } from './reachability.ts';
import { RecentAcks } from './recent-acks.ts';
import { describeSubscription, ensureSubscription, type SubscriptionInfo } from './resources.ts';

/** A stream error older than this, with no error since, no longer makes the source unready. */
const ERROR_WINDOW_MS = 30_000;
const REOPEN_MAX_DELAY_MS = 30_000;

/** The client's flow control for a sink: the queue's capacity plus what is in flight. */
export function flowControlFor(
  config: PubSubConfig,
  sink: Pick<EventSink, 'maxBatch' | 'capacity'>,
): { maxMessages: number; maxBytes: number } {
  const capacity = sink.capacity;
  const maxMessages = config.flowControl.maxMessages ?? capacity.events + sink.maxBatch + config.flowControl.inFlight;
  const maxBytes = config.flowControl.maxBytes ?? Math.ceil((capacity.bytes * maxMessages) / Math.max(1, capacity.events));
  return { maxMessages, maxBytes };
}

/**
 * Reads one subscription with streaming pull and delivers to the core.
 *
 * - Flow control: the client holds at most `maxMessages` / `maxBytes` unacked messages (the core
 *   queue's capacity plus a batch plus what workers hold; allowExcessMessages false), and lease
 *   management extends their ack deadlines until Sluice acks them (up to lease.maxExtensionMinutes).
 * - Awaitable push: messages arriving while a delivery is pending are collected (bounded by that
 *   flow control) and delivered as the next batch of at most sink.maxBatch.
 * - Redeliveries: a copy of a message this source still holds is joined to it (settled with it),
 *   a copy of one it acked lately is acked at once ({@link RecentAcks}); neither reaches the core.
 * - Reachability: the client retries a cut stream silently, so a {@link Reachability} probe asks
 *   the server while nothing arrives; while it fails, health() is not connected.
 * - Ordered subscriptions: an {@link OrderingGate} hands the core one event per ordering key at a
 *   time so that a nacked event is not overtaken (see there).
 * - stop(): no more deliveries; what arrives meanwhile stays leased and is nacked by close().
 *   close(): subscription.close() with the NackImmediately behaviour: everything the client still
 *   holds (never delivered, or delivered and not settled) is nacked, acks are flushed, then the
 *   connection closes. (WaitForProcessing is not used: the core already waited for in-flight events
 *   before close(), and messages the client received beyond flow control but never dispensed keep
 *   its inventory non-empty, so it would always run into its timeout.)
 */
export class PubSubSource implements Source, EventOwner {
  readonly sourceName: string;
  readonly commits = new CommitCounts();
  private client: PubSub | undefined;
  private subscription: Subscription | undefined;
  private info: SubscriptionInfo | undefined;
  private sink: EventSink | undefined;
  private gate: OrderingGate<PubSubEvent> | undefined;
  private exactlyOnce = false;
  /** Events ready for the core, in arrival order: ready[readyHead..]. */
  private ready: PubSubEvent[] = [];
  private readyHead = 0;
  private delivering = false;
  private scheduled = false;
  private started = false;
  private stopped = false;
  private closed = false;
  /** Received from the client and not yet acked or nacked (in the adapter, the queue or a worker), by message id. */
  private readonly outstanding = new Map<string, PubSubEvent>();
  private readonly recentAcks: RecentAcks;
  private reachability: Reachability | undefined;
  private lastError: { message: string; at: number; error: Error } | undefined;
  private lastMessageAt = 0;
  private reopenAttempts = 0;
  private reopening = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly readHeld = () => this.gate?.heldCount ?? 0;
  private readonly flush = () => void this.deliverReady();
  private readonly countingModAck: (deadline: number) => void;
  private readonly countingModAckWithResponse: (deadline: number) => Promise<unknown>;

  constructor(
    private readonly config: PubSubConfig,
    private readonly metrics: PubSubMetrics,
    private readonly logger: Logger,
    private readonly audit?: AckAudit,
  ) {
    this.sourceName = shortName(config.subscription);
    this.recentAcks = new RecentAcks(config.redeliveries.rememberAcked, config.redeliveries.windowSeconds * 1000);
    this.commits.declare(this.sourceName);
    // Lease extensions are observable because the client's lease manager calls message.modAck()
    // (modAckWithResponse on exactly-once subscriptions) for each extension. The receipt modAck is
    // sent before a message reaches us, and nack() goes through the subscriber, so only extensions
    // are counted. One function per source, assigned to each message: no closure per message.
    const modAck = Message.prototype.modAck;
    const modAckWithResponse = Message.prototype.modAckWithResponse;
    this.countingModAck = function (this: Message, deadline: number) {
      if (deadline > 0) metrics.leaseExtensions++;
      return modAck.call(this, deadline);
    };
    this.countingModAckWithResponse = function (this: Message, deadline: number) {
      if (deadline > 0) metrics.leaseExtensions++;
      return modAckWithResponse.call(this, deadline);
    };
  }

  async start(sink: EventSink): Promise<void> {
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
    if (info.messageOrdering && config.ordering.guard !== 'off') {
      this.gate = new OrderingGate<PubSubEvent>(
        (event) => this.enqueue(event),
        config.ordering.redeliveryWaitMs,
        config.ordering.guard,
        (key) => this.takeBackLater(key),
      );
      this.sweepTimer = setInterval(() => this.gate?.sweep(), Math.min(1000, config.ordering.redeliveryWaitMs));
      this.sweepTimer.unref();
    }
    const flowControl = flowControlFor(config, sink);
    const lease = config.lease;
    const options: SubscriberOptions = {
      flowControl: { ...flowControl, allowExcessMessages: false },
      streamingOptions: { maxStreams: config.streams },
      maxExtensionTime: Duration.from({ minutes: lease.maxExtensionMinutes }),
      ...(lease.minAckDeadlineSeconds ? { minAckDeadline: Duration.from({ seconds: lease.minAckDeadlineSeconds }) } : {}),
      ...(lease.maxAckDeadlineSeconds ? { maxAckDeadline: Duration.from({ seconds: lease.maxAckDeadlineSeconds }) } : {}),
      closeOptions: { behavior: 'NACK', timeout: Duration.from({ milliseconds: config.closeTimeoutMs }) },
    };
    const subscription = capLeaseLatency(client.subscription(config.subscription, options), this.logger);
    this.subscription = subscription;
    subscription.on('error', this.onError);
    subscription.on('close', this.onClose);
    subscription.on('debug', this.onDebug);
    this.reachability = new Reachability(
      (timeout) => subscription.getMetadata({ timeout, maxRetries: 0 }),
      config.probe.intervalMs,
      config.probe.timeoutMs,
      this.logger,
      () => void this.reopenStreams(),
    );
    this.reachability.start();
    subscription.on('message', this.onMessage); // opens the streaming pull
    this.metrics.heldBySource.add(this.readHeld);
    this.started = true;
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

  async stop(): Promise<void> {
    this.stopped = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    clearTimeout(this.reopenTimer);
    clearInterval(this.sweepTimer);
    this.reachability?.stop();
    this.recentAcks.clear();
    this.gate?.clear();
    this.ready = [];
    this.readyHead = 0;
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
      subscription.removeListener('close', this.onClose);
      subscription.removeListener('debug', this.onDebug);
      // Errors after close (a cancelled stream) must not crash the process: keep a listener.
      subscription.removeListener('error', this.onError);
      subscription.on('error', () => undefined);
    }
    await this.client?.close().catch(() => undefined);
  }

  health(): Health {
    if (this.closed) return { connected: false, detail: 'closed' };
    if (!this.started || !this.subscription) return { connected: false, detail: 'not started' };
    const name = this.info?.name ?? this.config.subscription;
    if (!this.subscription.isOpen) {
      return {
        connected: false,
        detail: `pubsub subscription ${name}: stream closed${this.lastError ? ` (${this.lastError.message})` : ''}, reopening`,
      };
    }
    const unreachable = this.reachability?.problem;
    if (unreachable) {
      const seconds = Math.round((Date.now() - unreachable.since) / 1000);
      return { connected: false, detail: `pubsub subscription ${name}: server unreachable for ${seconds} s (${unreachable.message})` };
    }
    const error = this.lastError;
    if (error && error.at > this.lastMessageAt && Date.now() - error.at < ERROR_WINDOW_MS) {
      return { connected: false, detail: `pubsub subscription ${name}: stream error: ${error.message}` };
    }
    const held = this.gate ? `, ${this.gate.heldCount} held for ordering` : '';
    return { connected: true, detail: `pubsub subscription ${name}: ${this.outstanding.size} outstanding${held}` };
  }

  /**
   * The subscription's lag as far as this instance sees it: messages received and not yet acked
   * or nacked, and the publish time of the oldest of them. (The subscription's whole backlog,
   * num_undelivered_messages, is a Cloud Monitoring metric, not something the subscriber API
   * returns, and the emulator has no Monitoring.) Pub/Sub has no partitions: partition is ''.
   */
  *lag(): Iterable<PartitionLag> {
    if (!this.started || this.closed) return;
    let oldestMs: number | undefined;
    for (const { timestamp } of this.outstanding.values()) if (oldestMs === undefined || timestamp < oldestMs) oldestMs = timestamp;
    yield { source: this.sourceName, partition: '', events: this.outstanding.size, oldestMs };
  }

  /** @internal called by PubSubEvent.ack */
  acked(event: PubSubEvent): void {
    if (this.closed) return;
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

  /** @internal called by PubSubEvent.nack */
  nacked(event: PubSubEvent, reason?: Error): void {
    if (this.closed) return;
    this.outstanding.delete(event.message.id);
    this.metrics.nacks++;
    event.message.nack();
    if (event.copies) for (const copy of event.copies) copy.nack();
    // Nacks the gate asked for (later events of a nacked key) do not start a wait of their own.
    if (this.gate && event.key !== undefined && reason !== SUPERSEDED) this.gate.settled(event, event.key, false);
  }

  /**
   * An event of `key` was nacked: the key's later events that the core has not started yet are
   * taken back (sink.discard) and nacked, with those still waiting here for delivery, so that
   * Pub/Sub delivers them again after the nacked one instead of letting them overtake it.
   * (At shutdown everything left is nacked anyway.)
   */
  private takeBackLater(key: string): void {
    if (this.stopped || !this.sink) return;
    const later: SourceEvent[] = this.sink.discard((event) => event instanceof PubSubEvent && event.owner === this && event.key === key);
    if (this.readyHead < this.ready.length) {
      const kept: PubSubEvent[] = [];
      for (let i = this.readyHead; i < this.ready.length; i++) {
        const event = this.ready[i]!;
        if (event.key === key) later.push(event);
        else kept.push(event);
      }
      this.ready = kept;
      this.readyHead = 0;
    }
    for (const event of later) event.nack(SUPERSEDED);
  }

  private readonly onMessage = (message: Message): void => {
    if (this.closed) return; // the client nacks what it holds on close
    const metrics = this.metrics;
    metrics.received++;
    this.lastMessageAt = Date.now();
    this.reopenAttempts = 0;
    const attempt = message.deliveryAttempt;
    if (attempt > 0) {
      metrics.deliveryAttempts.observe(attempt);
      if (attempt > 1) metrics.redeliveries++;
    }
    this.reachability?.alive(this.lastMessageAt);
    const leased = message as unknown as { modAck: unknown; modAckWithResponse: unknown };
    leased.modAck = this.countingModAck;
    leased.modAckWithResponse = this.countingModAckWithResponse;
    const held = this.outstanding.get(message.id);
    if (held) {
      // Delivered again while Sluice still holds it: settled with the first delivery.
      if (held.copies) held.copies.push(message);
      else held.copies = [message];
      metrics.redeliveries++;
      metrics.copiesJoined++;
      return;
    }
    if (this.recentAcks.has(message.id, this.lastMessageAt)) {
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
    else this.enqueue(event);
  };

  private readonly onError = (error: Error): void => {
    this.metrics.streamErrors++;
    const message = errorMessage(error) || `gRPC status ${(error as { code?: unknown }).code ?? 'unknown'}`;
    this.lastError = { message, at: Date.now(), error };
    if (this.closed) return;
    this.logger.warn({ error: message, code: (error as { code?: unknown }).code }, 'pubsub stream error');
  };

  /** The client reports a stream that ended (it retries it by itself): is the server still there? */
  private readonly onDebug = (message: { error?: unknown }): void => {
    if (!message.error || this.closed || this.stopped) return;
    void this.reachability?.probe();
  };

  /**
   * The client closed the subscriber by itself: its stream ended with a status it does not retry
   * (it nacked what it held, so those messages come again). A subscription that is gone or no
   * longer readable will not come back by retrying: that is fatal (Sluice stops and exits
   * non-zero, and a restart fails start() with a clear error). Anything else: open it again,
   * with backoff.
   */
  private readonly onClose = (): void => {
    if (this.closed || this.stopped || this.reopening) return;
    const last = this.lastError;
    const code = grpcCode(last?.error);
    if (last && (code === GrpcCode.NOT_FOUND || code === GrpcCode.PERMISSION_DENIED || code === GrpcCode.UNAUTHENTICATED)) {
      const error = toSluiceError(last.error, `subscription ${this.info?.name ?? this.config.subscription}`, this.config);
      this.logger.error({ error: error.message }, 'pubsub stream failed for good');
      this.sink?.fatal(error);
      return;
    }
    const delay = Math.min(REOPEN_MAX_DELAY_MS, 500 * 2 ** this.reopenAttempts++);
    this.logger.warn({ delayMs: delay, lastError: last?.message }, 'pubsub stream closed unexpectedly; reopening');
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.closed || this.stopped || !this.subscription || this.subscription.isOpen) return;
      this.subscription.open();
    }, delay);
    this.reopenTimer.unref();
  };

  /**
   * The server answers again after an outage: reopen the streams now instead of waiting for the
   * client's retry backoff (it doubles up to 60 s, so after a long cut the backlog could wait
   * that long). Only when the source holds nothing: closing nacks what the client holds.
   */
  private async reopenStreams(): Promise<void> {
    const subscription = this.subscription;
    if (!subscription || this.closed || this.stopped || this.reopening || this.outstanding.size > 0) return;
    this.reopening = true;
    try {
      await withTimeout(subscription.close(), this.config.closeTimeoutMs + 1000, 'closing the streams');
    } catch (error) {
      this.logger.warn({ error: errorMessage(error) }, 'pubsub: closing the streams to reopen them failed');
    } finally {
      this.reopening = false;
    }
    if (this.closed || this.stopped || subscription.isOpen) return;
    this.logger.info('pubsub: reopening the streams now that the server answers');
    subscription.open();
  }

  /** Acks another delivery of a message already acked (a failure only means it comes once more). */
  private ackCopy(copy: Message): void {
    if (this.exactlyOnce) copy.ackWithResponse().catch(() => undefined);
    else copy.ack();
  }

  private enqueue(event: PubSubEvent): void {
    this.ready.push(event);
    if (!this.delivering && !this.scheduled && !this.stopped) {
      // The client dispenses each message of a pull response in its own nextTick: wait for the
      // whole response before delivering, so it becomes one batch.
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Delivers ready events in batches, one delivery at a time (the sink's await is the backpressure). */
  private async deliverReady(): Promise<void> {
    this.scheduled = false;
    if (this.delivering || this.stopped || !this.sink) return;
    this.delivering = true;
    const sink = this.sink;
    try {
      while (!this.stopped && this.readyHead < this.ready.length) {
        await sink.deliver(this.take(sink.maxBatch));
      }
    } catch (error) {
      this.logger.error({ error: errorMessage(error) }, 'pubsub delivery to the core failed');
    } finally {
      this.delivering = false;
    }
  }

  private take(max: number): SourceEvent[] {
    const from = this.readyHead;
    const to = Math.min(this.ready.length, from + max);
    const batch = this.ready.slice(from, to);
    if (to === this.ready.length) {
      this.ready = [];
      this.readyHead = 0;
    } else {
      this.readyHead = to;
      if (to > 4096 && to * 2 > this.ready.length) {
        this.ready = this.ready.slice(to);
        this.readyHead = 0;
      }
    }
    return batch;
  }
}
