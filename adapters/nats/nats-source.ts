import { type ConsumerMessages, type JsMsg, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { expandDestination, toDeadLetter } from '../../src/dead-letter/dead-letter.ts';
import { errorMessage, NotFoundError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { DeliveryLane, type EventOwner, Lifecycle } from '../../src/source-kit/index.ts';
import { connectNats, ensureConsumer, ensureStream, manager } from './client.ts';
import type { NatsConfig } from './config.ts';
import type { NatsMetrics } from './metrics.ts';
import { NatsEvent } from './nats-event.ts';
import { NatsPublisher } from './nats-publisher.ts';
import { Notifier } from '../../src/util/notifier.ts';

/**
 * Reads a stream through a durable pull consumer (`consume()`: the client keeps a bounded buffer
 * of pulled messages filled). What arrived together is delivered as one batch through the kit's
 * DeliveryLane, awaited: while the queue is full nothing more is taken from the client, whose
 * buffer then stops pulling (backpressure).
 *
 * Settlement is per message, as the server tracks it: ack after processing; nack is `nak` with
 * `nackDelayMs` (the server delivers it again, delivery count + 1). Messages Sluice holds (queued
 * or in a worker) get an in-progress heartbeat (`working()`) every `workingIntervalMs`, so a slow
 * handler or a full queue does not make the server redeliver them after ack_wait. On close, what
 * is not settled is nacked without delay, so the next consumer gets it at once instead of after
 * ack_wait; a killed process's messages come back after ack_wait.
 */
export class NatsSource implements Source, EventOwner<NatsEvent> {
  readonly commits = new CommitCounts();
  private readonly lifecycle = new Lifecycle<'connecting' | 'running' | 'disconnected'>('nats source', {
    halt: () => this.halt(),
    shutdown: () => this.shutdown(),
  });
  /** Delivered (or read) and not settled: heartbeats go to these, close nacks them. */
  private readonly outstanding = new Set<NatsEvent>();
  private readonly abort = new AbortController();
  private readonly readOutstanding = () => this.outstanding.size;
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<unknown> | undefined;
  /** Read from the client, not yet handed to the lane. */
  private buffer: NatsEvent[] = [];
  private reading = true;
  private readonly arrived = new Notifier();
  private readonly taken = new Notifier();
  private heartbeat: NodeJS.Timeout | undefined;
  private deadLetters: NatsPublisher | undefined;
  private sink: EventSink | undefined;
  /** Messages of the stream not yet delivered to the consumer, as of the last message read. */
  private unread = 0;

  constructor(
    private readonly config: NatsConfig,
    private readonly metrics: NatsMetrics,
    private readonly logger: Logger,
    /** The ack audit (audit.file): each ack handed to the client is recorded first. */
    private readonly audit?: AckAudit,
  ) {}

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('connecting');
    this.sink = sink;
    try {
      this.nc = await connectNats(this.config, `sluice-${this.config.consumer}`);
      const jsm = await manager(this.nc, this.config);
      await ensureStream(jsm, this.config);
      const info = await ensureConsumer(jsm, this.config);
      const consumer = await jetstream(this.nc).consumers.get(this.config.stream, this.config.consumer);
      // Enough pulled ahead to fill a batch or two; the client pulls more as these are taken.
      this.messages = await consumer.consume({ max_messages: Math.max(2 * sink.maxBatch, 64), abort_on_missing_resource: true });
      const ackWaitMs = (info.config.ack_wait ?? this.config.ackWaitMs * 1e6) / 1e6;
      const every = this.config.workingIntervalMs ?? Math.max(100, Math.floor(ackWaitMs / 3));
      this.heartbeat = setInterval(() => this.beat(), every);
      this.heartbeat.unref();
    } catch (error) {
      this.lifecycle.crashed(errorMessage(error));
      await this.nc?.close().catch(() => undefined);
      throw error;
    }
    this.commits.declare(this.config.stream);
    this.metrics.outstanding.add(this.readOutstanding);
    this.lifecycle.to('running', `stream ${this.config.stream}, consumer ${this.config.consumer}`);
    void this.watch(this.nc, this.messages);
    this.loop = Promise.all([this.read(this.messages, sink.maxBatch), this.deliver(new DeliveryLane(sink), sink.maxBatch)]);
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
    yield { source: this.config.stream, partition: this.config.stream, events: this.unread + this.outstanding.size, oldestMs };
  }

  acked(event: NatsEvent): void {
    if (this.lifecycle.closed) return;
    this.outstanding.delete(event);
    this.audit?.acked(event.id);
    event.msg.ack();
    this.commits.commit(this.config.stream);
  }

  nacked(event: NatsEvent): void {
    if (this.lifecycle.closed) return;
    this.outstanding.delete(event);
    event.msg.nak(this.config.nackDelayMs);
    this.metrics.naks++;
  }

  /**
   * Takes messages from the client into `buffer`, at most one batch ahead of the delivery under
   * way: past that it waits, so the client's buffer fills and it stops pulling (backpressure).
   */
  private async read(messages: ConsumerMessages, maxBatch: number): Promise<void> {
    try {
      for await (const msg of messages) {
        if (this.lifecycle.stopped) {
          msg.nak(); // read after stop: to the next reader at once
          continue;
        }
        const event = this.take(msg);
        if (!event) continue;
        this.buffer.push(event);
        this.arrived.notify();
        while (this.buffer.length >= maxBatch && !this.lifecycle.stopped) await this.taken.wait();
      }
    } catch (error) {
      this.lost(error);
    }
    this.reading = false;
    this.arrived.notify();
  }

  /** Delivers what was read, as one batch of what arrived meanwhile (at most maxBatch), awaited. */
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

  /** A message read: counted, past maxDeliver sent to the dead-letter subject, else an event. */
  private take(msg: JsMsg): NatsEvent | undefined {
    this.metrics.received++;
    this.unread = msg.info.pending;
    if (msg.info.deliveryCount > 1) this.metrics.redelivered++;
    const event = new NatsEvent(this, msg, this.config.stream);
    const max = this.config.maxDeliver;
    if (max > 0 && msg.info.deliveryCount > max) {
      void this.deadLetter(event, max);
      return undefined;
    }
    this.outstanding.add(event);
    return event;
  }

  /**
   * A message delivered more than maxDeliver times (nacked each time, or its reader died each
   * time: a poison message) goes to the dead-letter subject, in the core's dead-letter format,
   * and is acked once the server confirmed that write; if the write fails it is nacked and
   * tried again at its next delivery.
   */
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
      this.logger.warn({ id: event.id, attempts: event.attempt - 1, deadLetter: subject }, 'nats: past maxDeliver, dead-lettered');
    } catch (error) {
      event.msg.nak(this.config.nackDelayMs);
      this.logger.error({ id: event.id, deadLetter: subject, error: errorMessage(error) }, 'nats: dead-letter write failed; nacked');
    }
  }

  /** Events read and not delivered (stopped meanwhile): the next reader gets them at once. */
  private release(events: readonly SourceEvent[]): void {
    for (const event of events as NatsEvent[]) {
      if (!this.outstanding.delete(event)) continue;
      event.msg.nak();
    }
  }

  /** In-progress heartbeats for what Sluice holds, so ack_wait counts from the last one. */
  private beat(): void {
    for (const event of this.outstanding) event.msg.working();
    this.metrics.working += this.outstanding.size;
  }

  /** Connection and consumer notices: health, and sink.fatal when the stream or consumer is gone. */
  private async watch(nc: NatsConnection, messages: ConsumerMessages): Promise<void> {
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
          this.lost(new Error(status.type.replaceAll('_', ' ')));
        }
      }
    })().catch(() => undefined);
    for await (const status of nc.status()) {
      if (this.lifecycle.stopped) return;
      if (status.type === 'disconnect') this.lifecycle.to('disconnected', `disconnected from ${status.server}, reconnecting`);
      if (status.type === 'reconnect') this.lifecycle.to('running', `stream ${this.config.stream}, consumer ${this.config.consumer}`);
    }
  }

  /** The stream or consumer was deleted under the source: reported once, Sluice stops. */
  private lost(error: unknown): void {
    this.metrics.consumeErrors++;
    if (this.lifecycle.stopped || this.lifecycle.state === 'crashed') return;
    const what = `stream ${this.config.stream} / consumer ${this.config.consumer}`;
    this.lifecycle.crashed(`${what}: ${errorMessage(error)}`);
    this.sink?.fatal(new NotFoundError(`nats: ${what} is gone (${errorMessage(error)})`, error));
  }

  private async halt(): Promise<void> {
    this.abort.abort();
    // The iterator yields what the client still holds, then ends: read() nacks those.
    this.messages?.stop();
    this.taken.notify();
    this.arrived.notify();
    await this.loop;
    this.release(this.buffer.splice(0));
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.metrics.outstanding.delete(this.readOutstanding);
    this.release([...this.outstanding]);
    await this.deadLetters?.close().catch(() => undefined);
    const nc = this.nc;
    if (!nc) return;
    // Acks and naks are fire-and-forget publishes: flush them before the connection goes.
    await nc.flush().catch(() => undefined);
    await nc.drain().catch(() => nc.close());
  }
}
