import { type ConsumerMessages, type JsMsg, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source } from '../../src/broker/contract.ts';
import { expandDestination, toDeadLetter } from '../../src/dead-letter/dead-letter.ts';
import { errorMessage, NotFoundError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { DeliveryLane, type EventOwner, Lifecycle } from '../../src/source-kit/index.ts';
import { Notifier } from '../../src/util/notifier.ts';
import { connectNats, ensureConsumer, ensureStream, manager } from './client.ts';
import type { NatsConfig } from './config.ts';
import type { NatsMetrics } from './metrics.ts';
import { NatsEvent } from './nats-event.ts';
import { NatsPublisher } from './nats-publisher.ts';

/**
 * A durable pull consumer. `read` takes messages from consume()'s bounded buffer at most one batch
 * ahead of `deliver` (so a full queue stops the pulling: backpressure), which hands what arrived
 * to the kit's DeliveryLane as one batch. Ack after processing; nack = nak with nackDelayMs; held
 * messages get working() heartbeats so ack_wait does not run out; close() naks what is unsettled.
 */
export class NatsSource implements Source, EventOwner<NatsEvent> {
  readonly commits = new CommitCounts();
  private readonly lifecycle = new Lifecycle<'connecting' | 'running' | 'disconnected'>('nats source', {
    halt: () => this.halt(),
    shutdown: () => this.shutdown(),
  });
  private readonly outstanding = new Set<NatsEvent>();
  private readonly countOutstanding = () => this.outstanding.size;
  private readonly abort = new AbortController();
  private readonly arrived = new Notifier();
  private readonly taken = new Notifier();
  private buffer: NatsEvent[] = [];
  private reading = true;
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loops: Promise<unknown> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private deadLetters: NatsPublisher | undefined;
  private sink: EventSink | undefined;
  private unread = 0; // not yet delivered to the consumer, as of the last message read

  constructor(
    private readonly config: NatsConfig,
    private readonly metrics: NatsMetrics,
    private readonly logger: Logger,
    private readonly audit?: AckAudit,
  ) {}

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('connecting');
    this.sink = sink;
    const { stream, consumer } = this.config;
    try {
      this.nc = await connectNats(this.config, `sluice-${consumer}`);
      const jsm = await manager(this.nc, this.config);
      await ensureStream(jsm, this.config);
      const ackWaitNs = (await ensureConsumer(jsm, this.config)).config.ack_wait ?? this.config.ackWaitMs * 1e6;
      const reader = await jetstream(this.nc).consumers.get(stream, consumer);
      this.messages = await reader.consume({ max_messages: Math.max(2 * sink.maxBatch, 64), abort_on_missing_resource: true });
      this.heartbeat = setInterval(() => this.beat(), this.config.workingIntervalMs ?? Math.max(100, ackWaitNs / 3e6));
      this.heartbeat.unref();
    } catch (error) {
      this.lifecycle.crashed(errorMessage(error));
      await this.nc?.close().catch(() => undefined);
      throw error;
    }
    this.commits.declare(stream);
    this.metrics.outstanding.add(this.countOutstanding);
    this.lifecycle.to('running', `stream ${stream}, consumer ${consumer}`);
    void this.watch(this.nc, this.messages);
    this.loops = Promise.all([this.read(this.messages, sink.maxBatch), this.deliver(new DeliveryLane(sink), sink.maxBatch)]);
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  health(): Health {
    return this.lifecycle.health('nats', (state) => ({ connected: state === 'running', detail: this.lifecycle.detail }));
  }
  *lag(): Iterable<PartitionLag> {
    if (this.lifecycle.closed || this.lifecycle.state === 'new') return;
    let oldestMs: number | undefined;
    for (const event of this.outstanding) if (oldestMs === undefined || event.timestamp < oldestMs) oldestMs = event.timestamp;
    const { stream } = this.config;
    yield { source: stream, partition: stream, events: this.unread + this.outstanding.size, oldestMs };
  }

  acked(event: NatsEvent): void {
    if (this.lifecycle.closed || !this.outstanding.delete(event)) return;
    this.audit?.acked(event.id);
    event.msg.ack();
    this.commits.commit(this.config.stream);
  }
  nacked(event: NatsEvent): void {
    if (this.lifecycle.closed || !this.outstanding.delete(event)) return;
    event.msg.nak(this.config.nackDelayMs);
    this.metrics.naks++;
  }

  private async read(messages: ConsumerMessages, maxBatch: number): Promise<void> {
    try {
      // What is read after stop goes to the next reader at once.
      for await (const msg of messages) {
        if (this.lifecycle.stopped) msg.nak();
        else if (this.admit(msg)) this.arrived.notify();
        while (this.buffer.length >= maxBatch && !this.lifecycle.stopped) await this.taken.wait();
      }
    } catch (error) {
      this.lost(error);
    }
    this.reading = false;
    this.arrived.notify();
  }

  private async deliver(lane: DeliveryLane, maxBatch: number): Promise<void> {
    for (;;) {
      if (this.buffer.length === 0) {
        if (!this.reading || this.lifecycle.stopped) return;
        await this.arrived.wait();
        continue;
      }
      const events = this.buffer.splice(0, maxBatch);
      this.taken.notify();
      if (!(await lane.deliver(events, this.abort.signal))) this.release(events);
    }
  }

  /** Past maxDeliver a message goes to the dead-letter subject, else to the buffer. */
  private admit(msg: JsMsg): boolean {
    this.metrics.received++;
    this.unread = msg.info.pending;
    if (msg.info.deliveryCount > 1) this.metrics.redelivered++;
    const event = new NatsEvent(this, msg, this.config.stream);
    const max = this.config.maxDeliver;
    if (max > 0 && msg.info.deliveryCount > max) {
      void this.deadLetter(event, max);
      return false;
    }
    this.outstanding.add(event);
    this.buffer.push(event);
    return true;
  }

  /** A poison message, in the core's dead-letter format; acked once stored, else nacked to try again. */
  private async deadLetter(event: NatsEvent, max: number): Promise<void> {
    const subject = expandDestination(this.config.deadLetterSubject, event);
    const reason = new Error(`delivered ${event.attempt} times, more than broker.nats.maxDeliver (${max})`);
    try {
      this.deadLetters ??= new NatsPublisher(this.config);
      await this.deadLetters.connect();
      await this.deadLetters.publish(subject, [toDeadLetter(event, reason, event.attempt - 1)]);
      this.audit?.deadLettered(event.id);
      this.audit?.acked(event.id);
      event.msg.ack();
      this.metrics.maxDeliverDeadLetters++;
      this.logger.warn({ id: event.id, deadLetter: subject }, 'nats: past maxDeliver, dead-lettered');
    } catch (error) {
      event.msg.nak(this.config.nackDelayMs);
      this.logger.error({ id: event.id, deadLetter: subject, error: errorMessage(error) }, 'nats: dead-letter write failed; nacked');
    }
  }

  /** Not delivered, or unsettled at close: to the next reader at once. */
  private release(events: readonly unknown[]): void {
    for (const event of events as NatsEvent[]) if (this.outstanding.delete(event)) event.msg.nak();
  }

  private beat(): void {
    for (const event of this.outstanding) event.msg.working();
    this.metrics.working += this.outstanding.size;
  }

  /** Health follows the connection; a deleted stream or consumer is reported through sink.fatal. */
  private async watch(nc: NatsConnection, messages: ConsumerMessages): Promise<void> {
    void (async () => {
      for await (const { type } of messages.status())
        if (type === 'consumer_deleted' || type === 'consumer_not_found' || type === 'stream_not_found') this.lost(new Error(type));
    })().catch(() => undefined);
    const running = this.lifecycle.detail;
    for await (const status of nc.status()) {
      if (this.lifecycle.stopped || this.lifecycle.state === 'crashed') return;
      if (status.type === 'disconnect') this.lifecycle.to('disconnected', `disconnected from ${status.server}, reconnecting`);
      if (status.type === 'reconnect') this.lifecycle.to('running', running);
    }
  }

  private lost(error: unknown): void {
    if (this.lifecycle.stopped || this.lifecycle.state === 'crashed') return;
    const what = `stream ${this.config.stream}, consumer ${this.config.consumer}: ${errorMessage(error)}`;
    this.lifecycle.crashed(what);
    this.sink?.fatal(new NotFoundError(`nats: ${what}`, error));
  }

  private async halt(): Promise<void> {
    this.abort.abort();
    this.messages?.stop(); // the iterator still yields what the client holds: read() naks those
    this.taken.notify();
    this.arrived.notify();
    await this.loops;
    this.release(this.buffer.splice(0));
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.metrics.outstanding.delete(this.countOutstanding);
    this.release([...this.outstanding]);
    await this.deadLetters?.close().catch(() => undefined);
    const nc = this.nc;
    // Acks and naks are fire-and-forget publishes: flushed before the connection goes.
    await nc?.flush().catch(() => undefined);
    await nc?.drain().catch(() => nc.close());
  }
}
