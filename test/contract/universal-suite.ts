/**
 * The universal adapter contract suite (Watermill's idea): every broker adapter passes the same
 * tests, gated by its features (src/broker/tooling.ts, BrokerFeatures: a case the broker does
 * not promise is skipped with the feature named, never silently). A broker's test file is a few lines:
 *
 *   runContractSuite({ name: 'kafka', setup: async () => ({ ... }) });
 *
 * See src/broker/contract.ts for the rules these tests hold adapters to. The cases and what gates
 * them: delivery, backpressure, pipeline, largest and empty payloads (every adapter); key order
 * (orderedByKey); nack redelivery (redeliversOnNack); restart, ack after stop, redelivery after
 * close (persistent); a nacked event kept ahead of its key (nackKeepsKeyOrder); two members of a
 * group (consumerGroups); discard at a handover (handsOverPartitions); a deleted destination
 * reported through sink.fatal (fatalOnLostDestination); headers round trip (headers).
 */
import { afterEach, describe, expect, type TestContext, it as vitestIt } from 'vitest';
import pino from 'pino';
import type { EventSink, OutgoingEvent, Source, SourceEvent } from '../../src/broker/contract.ts';
import type { BrokerFeatures, ToolingAdapter } from '../../src/broker/tooling.ts';
import { Pipeline } from '../../src/core/pipeline.ts';

export interface ContractContext {
  /** An adapter configured to read `destination` with a fresh consumer group / subscription. */
  adapter: ToolingAdapter;
  /** Where to publish so that `adapter`'s sources read it. */
  destination: string;
  /** Removes what setup created. */
  teardown(): Promise<void>;
}

export interface ContractSubject {
  name: string;
  /** Creates a fresh destination (topic, stream, topic+subscription) with `partitions` partitions. */
  setup(options: { partitions: number }): Promise<ContractContext>;
  /** How long to wait for deliveries (real brokers are slower than memory). Default 30 s. */
  timeoutMs?: number;
  /**
   * Whether a key's later events are delivered while earlier ones are unacked. Default true. An
   * ordered Pub/Sub subscription on pstest hands out one message per key at a time (the next once
   * the previous is acked), which Pub/Sub allows: the restart test then acks as events arrive.
   */
  deliversUnackedBacklogOfKey?: boolean;
  /**
   * Cases that do not apply to this subject, by test name, each with the reason; they are
   * reported as skipped with the reason in their name (never silently left out). For sources
   * that are not brokers (HTTP): no redelivery, no restart, whole-request deliveries.
   */
  notApplicable?: Readonly<Record<string, string>>;
}

/** Collects what a source delivers; acks on request; can hold deliveries to test backpressure. */
export class CollectingSink implements EventSink {
  readonly events: SourceEvent[] = [];
  deliveries = 0;
  pendingDeliveries = 0;
  maxPendingDeliveries = 0;
  private hold: Promise<void> | undefined;
  private release: (() => void) | undefined;

  constructor(
    readonly maxBatch = 100,
    private readonly autoAck = false,
    readonly capacity = { events: 1000, bytes: 1 << 24 },
  ) {}

  /** While held, deliver() stays pending, as with a full queue. */
  holdDeliveries(): void {
    this.hold = new Promise((resolve) => (this.release = resolve));
  }

  releaseDeliveries(): void {
    this.release?.();
    this.hold = undefined;
  }

  async deliver(events: SourceEvent[]): Promise<void> {
    this.deliveries++;
    this.pendingDeliveries++;
    this.maxPendingDeliveries = Math.max(this.maxPendingDeliveries, this.pendingDeliveries);
    this.events.push(...events);
    if (this.autoAck) for (const event of events) event.ack();
    try {
      if (this.hold) await this.hold;
    } finally {
      this.pendingDeliveries--;
    }
  }

  /** Nothing waits inside this sink: every delivered event is in `events` already. */
  discard(_predicate: (event: SourceEvent) => boolean): SourceEvent[] {
    return [];
  }

  readonly fatalErrors: Error[] = [];
  fatal(error: Error): void {
    this.fatalErrors.push(error);
  }

  payloads(): string[] {
    return this.events.map((event) => event.payload.toString());
  }
}

/**
 * Stands in for the core's queue: delivered events wait in `waiting` until the test takes them,
 * and discard() takes them back as the core's queue does (a source hands them to the next owner).
 */
export class QueueingSink extends CollectingSink {
  readonly waiting: SourceEvent[] = [];
  readonly discarded: SourceEvent[] = [];

  override async deliver(events: SourceEvent[]): Promise<void> {
    this.waiting.push(...events);
    await super.deliver(events);
  }

  override discard(predicate: (event: SourceEvent) => boolean): SourceEvent[] {
    const taken = this.waiting.filter(predicate);
    for (const event of taken) this.waiting.splice(this.waiting.indexOf(event), 1);
    this.discarded.push(...taken);
    return taken;
  }

  /** Acks every waiting event, as workers would. */
  ackWaiting(): void {
    for (const event of this.waiting.splice(0)) event.ack();
  }
}

export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function makeEvents(run: string, count: number, keys: number): OutgoingEvent[] {
  return Array.from({ length: count }, (_, n) => ({
    key: `k${n % keys}`,
    payload: Buffer.from(JSON.stringify({ run, n })),
    headers: { 'x-run': run, 'x-n': String(n) },
  }));
}

const seq = (event: SourceEvent): number => (JSON.parse(event.payload.toString()) as { n: number }).n;

/** The core around `source`: a queue of 8, two workers keeping per-key order, no dead letters. */
function contractPipeline(adapter: ToolingAdapter, source: Source, handler: (event: SourceEvent) => Promise<void>): Pipeline {
  return new Pipeline(
    {
      broker: adapter.type,
      queue: { maxEvents: 8, maxBytes: 1 << 20, policy: 'block' },
      pool: { size: 2, orderByKey: true },
      shutdownTimeoutMs: 5_000,
      stallTimeoutMs: 60_000,
    },
    { source, handler, logger: pino({ level: 'silent' }) },
  );
}

export function runContractSuite(subject: ContractSubject): void {
  const timeout = subject.timeoutMs ?? 30_000;

  describe(`broker contract: ${subject.name}`, () => {
    const it = (name: string, test: (context: TestContext) => Promise<void>) => {
      const reason = subject.notApplicable?.[name];
      if (reason) vitestIt.skip(`${name} (not applicable: ${reason})`, test);
      else vitestIt(name, test);
    };
    /** Skips the running case, saying why, unless the adapter promises `feature`. */
    const requires = (context: TestContext, adapter: ToolingAdapter, feature: keyof BrokerFeatures) => {
      if (!adapter.features[feature]) context.skip(`features.${feature} is false: ${subject.name} does not promise it`);
    };
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    async function fresh(partitions = 2) {
      const context = await subject.setup({ partitions });
      cleanups.push(() => context.teardown());
      const publisher = context.adapter.createPublisher();
      await publisher.connect();
      cleanups.push(() => publisher.close());
      const run = Math.random().toString(36).slice(2, 10);
      return { ...context, publisher, run };
    }

    function track(source: Source): Source {
      cleanups.push(() => source.close());
      return source;
    }

    it('delivers every published event with its key, payload and headers', async () => {
      const { adapter, destination, publisher, run } = await fresh();
      const source = track(adapter.createSource());
      const sink = new CollectingSink(50, true);
      await source.start(sink);
      expect(source.health().connected).toBe(true);
      await publisher.publish(destination, makeEvents(run, 60, 6));
      await eventually(() => new Set(sink.events.map(seq)).size >= 60, timeout, '60 events');
      const byN = new Map(sink.events.map((event) => [seq(event), event]));
      for (let n = 0; n < 60; n++) {
        const event = byN.get(n)!;
        expect(event.key).toBe(`k${n % 6}`);
        if (adapter.features.headers) expect(event.headers['x-n']).toBe(String(n));
        expect(event.source).toBeTruthy();
        expect(event.position.partition).toBeTruthy();
        expect(event.attempt).toBeGreaterThanOrEqual(1);
        expect(Math.abs(event.timestamp - Date.now())).toBeLessThan(10 * 60_000);
      }
      expect(new Set(sink.events.map((event) => event.id)).size).toBe(sink.events.length);
    });

    it('keeps the publish order of each key', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(3);
      requires(context, adapter, 'orderedByKey');
      const source = track(adapter.createSource());
      const sink = new CollectingSink(20, true);
      await source.start(sink);
      for (let i = 0; i < 4; i++) await publisher.publish(destination, makeEvents(run, 100, 5).slice(i * 25, (i + 1) * 25));
      await eventually(() => new Set(sink.events.map(seq)).size >= 100, timeout, '100 events');
      const lastByKey = new Map<string, number>();
      for (const event of sink.events) {
        const n = seq(event);
        const previous = lastByKey.get(event.key!) ?? -1;
        expect(n, `key ${event.key}: ${n} after ${previous}`).toBeGreaterThan(previous);
        lastByKey.set(event.key!, n);
      }
    });

    it('does not deliver again while a delivery is pending (backpressure)', async () => {
      const { adapter, destination, publisher, run } = await fresh();
      const source = track(adapter.createSource());
      const sink = new CollectingSink(5);
      sink.holdDeliveries();
      await source.start(sink);
      await publisher.publish(destination, makeEvents(run, 50, 5));
      await eventually(() => sink.deliveries >= 1, timeout, 'a first delivery');
      await sleep(500);
      expect(sink.maxPendingDeliveries).toBe(1);
      expect(sink.deliveries).toBe(1);
      expect(sink.events.length).toBeLessThanOrEqual(sink.maxBatch);
      sink.releaseDeliveries();
      for (const event of sink.events) event.ack();
    });

    it('delivers a nacked event again', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(1);
      requires(context, adapter, 'redeliversOnNack');
      const source = track(adapter.createSource());
      const sink = new CollectingSink(10);
      await source.start(sink);
      await publisher.publish(destination, makeEvents(run, 1, 1));
      await eventually(() => sink.events.length >= 1, timeout, 'the event');
      sink.events[0]!.nack(new Error('try again'));
      sink.events[0]!.ack(); // the first settlement wins: this must not count as an ack
      await eventually(() => sink.events.length >= 2, timeout, 'the redelivery');
      expect(seq(sink.events[1]!)).toBe(0);
      sink.events[1]!.ack();
      sink.events[1]!.ack(); // idempotent
    });

    it('after a restart, redelivers what was not acked and not what was', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(2);
      requires(context, adapter, 'persistent');
      await publisher.publish(destination, makeEvents(run, 40, 4));
      const first = adapter.createSource();
      const sink = new CollectingSink(10);
      await first.start(sink);
      // Ack the first half of every key: acks must be committed on close.
      const ackFirstHalf = () => {
        for (const event of sink.events) if (seq(event) < 20) event.ack();
      };
      if (subject.deliversUnackedBacklogOfKey ?? true) {
        await eventually(() => new Set(sink.events.map(seq)).size >= 40, timeout, '40 events');
        ackFirstHalf();
      } else {
        // One event per key at a time: ack the first half as it comes, until each of the 4 keys
        // has its first unacked event (20..23) out.
        await eventually(
          () => {
            ackFirstHalf();
            const seen = new Set(sink.events.map(seq));
            return [20, 21, 22, 23].every((n) => seen.has(n));
          },
          timeout,
          'the first half acked and an unacked event of each key',
        );
      }
      await first.close();
      // After close, settling is a no-op and must not throw.
      sink.events.find((event) => seq(event) >= 20)?.ack();

      const second = track(adapter.createSource());
      const again = new CollectingSink(10, true);
      await second.start(again);
      await eventually(() => new Set(again.events.map(seq).filter((n) => n >= 20)).size >= 20, timeout, 'the 20 unacked events');
      await sleep(300);
      const redelivered = new Set(again.events.map(seq));
      for (let n = 20; n < 40; n++) expect(redelivered.has(n), `event ${n} redelivered`).toBe(true);
      // Contiguous commits may redeliver some acked events (at-least-once), never lose unacked ones.
      expect(again.events.length).toBeLessThanOrEqual(40);
    });

    it('runs through the pipeline without loss under backpressure', async () => {
      const { adapter, destination, publisher, run } = await fresh(2);
      const source = track(adapter.createSource());
      const seen = new Set<number>();
      const pipeline = contractPipeline(adapter, source, async (event) => {
        await sleep(1);
        seen.add(seq(event));
      });
      await pipeline.start();
      cleanups.push(() => pipeline.stop());
      await publisher.publish(destination, makeEvents(run, 200, 10));
      await eventually(() => seen.size >= 200, timeout * 2, '200 events processed');
      expect(pipeline.stats.processed.failed).toBe(0);
      expect(pipeline.queue.depth).toBeLessThanOrEqual(8);
      expect(pipeline.health().ready).toBe(true);
      await pipeline.stop();
      expect(source.health().connected).toBe(false);
    });

    // --- What every adapter promises beyond delivery (issue #14), each gated by a feature. ---

    it('commits acks made after stop() when it closes (ack after stop)', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(1);
      requires(context, adapter, 'persistent');
      // One event per key: a broker that hands out one unacked event per key still delivers all.
      await publisher.publish(destination, makeEvents(run, 10, 10));
      const first = track(adapter.createSource());
      const sink = new CollectingSink(10);
      await first.start(sink);
      await eventually(() => new Set(sink.events.map(seq)).size >= 10, timeout, '10 events');
      // Shutdown order in the core: stop fetching, let workers finish (ack), then close.
      await first.stop();
      for (const event of sink.events) event.ack();
      await first.close();

      // A marker behind them: once it arrives, anything not committed would have come first (one
      // partition) or at once (Pub/Sub redelivers what close() nacked).
      await publisher.publish(destination, [
        { key: 'marker', payload: Buffer.from(JSON.stringify({ run, n: 10 })), headers: { 'x-n': '10' } },
      ]);
      const second = track(adapter.createSource());
      const again = new CollectingSink(10, true);
      await second.start(again);
      await eventually(() => again.events.some((event) => seq(event) === 10), timeout, 'the marker');
      await sleep(500);
      expect(
        again.events.map(seq).filter((n) => n < 10),
        'acked after stop, delivered again',
      ).toEqual([]);
    });

    it('redelivers to the next source what was delivered and never acked (redelivery after close)', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(2);
      requires(context, adapter, 'persistent');
      // One event per key: a broker that hands out one unacked event per key still delivers all.
      await publisher.publish(destination, makeEvents(run, 10, 10));
      const first = track(adapter.createSource());
      const sink = new CollectingSink(10);
      await first.start(sink);
      await eventually(() => new Set(sink.events.map(seq)).size >= 10, timeout, '10 events');
      await first.close();

      const second = track(adapter.createSource());
      const again = new CollectingSink(10, true);
      await second.start(again);
      await eventually(() => new Set(again.events.map(seq)).size >= 10, timeout, 'the 10 unacked events again');
    });

    it('keeps a nacked event ahead of the later events of its key', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(1);
      requires(context, adapter, 'orderedByKey');
      requires(context, adapter, 'redeliversOnNack');
      requires(context, adapter, 'nackKeepsKeyOrder');
      const source = track(adapter.createSource());
      // Through the core: an ordered pool hands a key's events to one worker at a time; event 2
      // fails once (no dead-letter destination: nacked), and must still be handled before 3.
      const handled: number[] = [];
      let failed = false;
      const pipeline = contractPipeline(adapter, source, async (event) => {
        const n = seq(event);
        if (n === 2 && !failed) {
          failed = true;
          throw new Error('fails once');
        }
        handled.push(n);
      });
      await pipeline.start();
      cleanups.push(() => pipeline.stop());
      await publisher.publish(destination, makeEvents(run, 6, 1));
      await eventually(() => new Set(handled).size >= 6, timeout, '6 events handled');
      expect(failed).toBe(true);
      const firsts = handled.filter((n, i) => handled.indexOf(n) === i);
      expect(firsts, "order in which the key's events were first handled").toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('shares a group between two sources without loss', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(4);
      requires(context, adapter, 'consumerGroups');
      const sinks = [new CollectingSink(20, true), new CollectingSink(20, true)];
      const sources = sinks.map(() => track(adapter.createSource()));
      await Promise.all(sources.map((source, i) => source.start(sinks[i]!)));
      await eventually(() => sources.every((source) => source.health().connected), timeout, 'both members connected');
      await publisher.publish(destination, makeEvents(run, 100, 10));
      const union = () => new Set(sinks.flatMap((sink) => sink.events.map(seq)));
      await eventually(() => union().size >= 100, timeout, '100 events between the two members');
      // Each event came from this run's destination: no member read another's.
      expect([...union()].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    });

    it('delivers again, through the next owner, what the sink discarded at a handover', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(2);
      requires(context, adapter, 'handsOverPartitions');
      await publisher.publish(destination, makeEvents(run, 40, 8));
      const firstSink = new QueueingSink(10);
      firstSink.holdDeliveries(); // a full queue: nothing is started before the handover
      const first = track(adapter.createSource());
      await first.start(firstSink);
      await eventually(() => firstSink.deliveries >= 1, timeout, 'a first delivery');
      const secondSink = new CollectingSink(10, true);
      const second = track(adapter.createSource());
      await second.start(secondSink);
      await eventually(() => secondSink.events.length > 0, timeout * 2, 'the second source reading what it took over');
      // Events the first source delivered (held, none started) from what the second now reads
      // must be taken back: processing them would duplicate the second's work.
      const takenOver = () => new Set(secondSink.events.map((event) => event.position.partition));
      const heldFrom = (partitions: Set<string>) => firstSink.waiting.filter((event) => partitions.has(event.position.partition));
      await eventually(() => heldFrom(takenOver()).length === 0, timeout, 'the first source taking back what it handed over');
      const discarded = firstSink.discarded.map(seq);
      // Discarded events are neither acked nor nacked; the rest the first source still holds is done.
      firstSink.releaseDeliveries();
      const drain = setInterval(() => firstSink.ackWaiting(), 20);
      cleanups.push(async () => clearInterval(drain));
      const handled = () =>
        new Set([...secondSink.events, ...firstSink.events.filter((event) => !firstSink.discarded.includes(event))].map(seq));
      await eventually(() => handled().size >= 40, timeout * 2, 'all 40 events handled by one of the two sources');
      for (const n of discarded) expect(handled().has(n), `discarded event ${n} delivered again`).toBe(true);
    });

    it('reports a deleted destination through sink.fatal', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(1);
      requires(context, adapter, 'fatalOnLostDestination');
      const source = track(adapter.createSource());
      const sink = new CollectingSink(10, true);
      await source.start(sink);
      await publisher.publish(destination, makeEvents(run, 1, 1));
      await eventually(() => sink.events.length >= 1, timeout, 'the first event');
      const admin = adapter.createAdmin();
      cleanups.push(() => admin.close());
      await admin.deleteDestination(destination);
      await eventually(() => sink.fatalErrors.length >= 1, timeout * 2, 'sink.fatal');
      expect(sink.fatalErrors[0]).toBeInstanceOf(Error);
      expect(sink.fatalErrors[0]!.message).not.toBe('');
      await sleep(300);
      expect(sink.fatalErrors.length, 'fatal is reported once').toBe(1);
    });

    it('carries headers as published, and none when none were', async (context) => {
      const { adapter, destination, publisher, run } = await fresh(1);
      requires(context, adapter, 'headers');
      const sent = { 'x-run': run, 'x-unicode': 'é ✓ 漢字', 'x-empty': '', 'x-long': 'v'.repeat(500), 'X-Case': 'Kept' };
      const source = track(adapter.createSource());
      const sink = new CollectingSink(10, true);
      await source.start(sink);
      await publisher.publish(destination, [
        { key: 'h', payload: Buffer.from(JSON.stringify({ run, n: 0 })), headers: sent },
        { key: 'h', payload: Buffer.from(JSON.stringify({ run, n: 1 })) },
      ]);
      await eventually(() => new Set(sink.events.map(seq)).size >= 2, timeout, 'both events');
      expect({ ...sink.events.find((event) => seq(event) === 0)!.headers }).toEqual(sent);
      expect({ ...sink.events.find((event) => seq(event) === 1)!.headers }).toEqual({});
    });

    it('carries a payload of the largest size it promises, byte for byte', async () => {
      const { adapter, destination, publisher } = await fresh(1);
      // At most 3 MiB: CI time, and pstest's gRPC server takes requests of at most 4 MiB.
      const size = Math.min(adapter.features.maxPayloadBytes, 3 * 1024 * 1024);
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, Math.min(i, size - 4));
      const source = track(adapter.createSource());
      const sink = new CollectingSink(10, true);
      await source.start(sink);
      await publisher.publish(destination, [{ key: 'large', payload }]);
      await eventually(() => sink.events.length >= 1, timeout, `the ${size}-byte event`);
      expect(sink.events[0]!.payload.length).toBe(size);
      expect(sink.events[0]!.payload.equals(payload), 'payload unchanged').toBe(true);
    });

    it('carries an empty payload', async () => {
      const { adapter, destination, publisher, run } = await fresh(1);
      const source = track(adapter.createSource());
      const sink = new CollectingSink(10, true);
      await source.start(sink);
      // Pub/Sub takes an empty message only with an attribute; brokers without headers get none.
      const headers = adapter.features.headers ? { 'x-run': run } : undefined;
      await publisher.publish(destination, [{ key: 'empty', payload: Buffer.alloc(0), ...(headers ? { headers } : {}) }]);
      await eventually(() => sink.events.length >= 1, timeout, 'the empty event');
      expect(sink.events[0]!.payload.length).toBe(0);
      expect(sink.events[0]!.key).toBe('empty');
      if (headers) expect(sink.events[0]!.headers['x-run']).toBe(run);
    });
  });
}
