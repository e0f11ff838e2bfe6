/**
 * The runtime broker contract: everything Sluice's core knows about a broker. What tools know
 * beyond it (admin, features, benchmark hooks, config checks) is the tooling contract,
 * ./tooling.ts; the core never reads that one.
 *
 * An adapter (memory, Kafka, Kinesis, Pub/Sub) implements a {@link Source} that delivers
 * {@link SourceEvent}s to the core, and a {@link Publisher} that sends batches (dead letters,
 * benchmark load, bridging). The core never imports an adapter; it is handed one through the
 * container (see src/di). Every adapter passes the universal contract suite in test/contract.
 *
 * Delivery is at-least-once. The rules an adapter must keep:
 *  1. Awaitable push: a source calls {@link EventSink.deliver} and does not deliver again until
 *     the returned promise resolves. That await is the backpressure: a full queue pauses the
 *     source, so nothing is buffered without bound inside the adapter.
 *  2. An event's broker position is committed / acknowledged only after the core called
 *     {@link SourceEvent.ack}, and for ordered logs (partitions, shards) only up to the highest
 *     *contiguous* acked position (src/source-kit/offset-tracker.ts does that bookkeeping).
 *  3. ack() and nack() are idempotent, and the first of them wins. After {@link Source.close}
 *     both are no-ops.
 *  4. An event that was delivered but never acked (the process died, or close() came first) is
 *     delivered again later: by the same source after nack(), or by the next source of the same
 *     consumer group / subscription / lease after a restart.
 */

/** Where an event sits in its broker: a Kafka partition+offset, a Kinesis shard+sequence number,
 * or for Pub/Sub the subscription and the ack id. Offsets are strings because Kinesis sequence
 * numbers do not fit in a double. */
export interface Position {
  readonly partition: string;
  readonly offset: string;
}

/** One event as a source delivers it. */
export interface SourceEvent {
  /** Stable id of the event in its broker (message id, partition-offset, sequence number). */
  readonly id: string;
  /** Routing / ordering key (Kafka key, Kinesis partition key, Pub/Sub ordering key), if any. */
  readonly key: string | undefined;
  readonly payload: Buffer;
  /** Kafka headers, Pub/Sub attributes; Kinesis has none. */
  readonly headers: Readonly<Record<string, string>>;
  /** Broker timestamp (append / publish / arrival time), milliseconds since the epoch. */
  readonly timestamp: number;
  readonly position: Position;
  /** The topic, stream or subscription the event was read from (dead letters go to `<source>.dlq`). */
  readonly source: string;
  /** 1 on first delivery; higher when the broker knows it redelivers (Pub/Sub delivery attempt). */
  readonly attempt: number;
  /**
   * The event is done: processed, or safely dead-lettered. Idempotent. The core says which
   * (`outcome`, default 'processed'); a source whose client is told (HTTP) reports it, others
   * ignore it.
   */
  ack(outcome?: AckOutcome): void;
  /** The event was not done and must be delivered again. Idempotent. */
  nack(reason?: Error): void;
  /**
   * The core's slot: a traced event's trace while it waits in the queue (src/tracing). A source
   * declares it, initialized to undefined (BaseEvent does), so that every event of a source has
   * one shape whether traced or not, and never reads or writes it.
   */
  traceSlot?: unknown;
}

/** Why an event was acked: handled, written to the dead-letter destination, or dropped by a lossy queue policy. */
export type AckOutcome = 'processed' | 'dead-lettered' | 'dropped';

/** What the core gives a source to deliver into. */
export interface EventSink {
  /**
   * Hands a batch to the core, in broker order. Resolves once the core has accepted it; while
   * the queue is full it stays pending (the source is paused). A source must await it before
   * delivering the next batch. Batches should be at most {@link maxBatch} events.
   */
  deliver(events: SourceEvent[]): Promise<void>;
  /** The largest batch worth delivering at once (derived from the queue's capacity). */
  readonly maxBatch: number;
  /** The queue's capacity, for sources whose client has flow control of its own (Pub/Sub). */
  readonly capacity: { readonly events: number; readonly bytes: number };
  /**
   * Takes back delivered events that no worker has started yet (waiting in the queue, set aside
   * for per-key order, or in a pending delivery) for which `predicate` holds, and returns them.
   * They are neither acked nor nacked: for a source that lost the partitions or shards they came
   * from, whose next owner delivers them again. Processing them anyway would only duplicate.
   */
  discard(predicate: (event: SourceEvent) => boolean): SourceEvent[];
  /**
   * A source that failed for good after start (its client gave up and will not reconnect)
   * reports it here: Sluice stops gracefully and exits non-zero, so that a supervisor restarts it.
   */
  fatal(error: Error): void;
}

/**
 * One partition's lag as its source reports it when metrics are scraped (the shared meaning is
 * in src/metrics/source-metrics.ts; what each broker can tell is in its README).
 */
export interface PartitionLag {
  /** The topic, stream or subscription (as {@link SourceEvent.source}). */
  readonly source: string;
  /** `topic/partition` or the shard id; '' where the broker has no partitions (Pub/Sub). */
  readonly partition: string;
  /**
   * Events not yet committed by this instance: read and not finished, finished and not yet
   * committed, and, where the broker tells without extra calls, not yet read.
   */
  readonly events: number;
  /**
   * Broker timestamp (ms since the epoch) of the oldest event Sluice has not finished, as far as
   * the adapter knows it (events it holds; where the broker tells, the next unread one);
   * undefined when none is known to wait.
   */
  readonly oldestMs: number | undefined;
}

export interface Health {
  /** Connected to the broker and, where that applies, a member of its group / holder of leases. */
  readonly connected: boolean;
  /** Human-readable state for /readyz and logs ("rebalancing", "4 shards leased", an error). */
  readonly detail?: string;
}

/**
 * Commits a source made and failed, per {@link SourceEvent.source}. What counts as one commit is
 * the broker's unit: an offset commit (Kafka, memory), a checkpoint write (Kinesis), an ack
 * (Pub/Sub). Adapters keep it with src/metrics/source-metrics.ts's CommitCounts.
 */
export interface CommitTally {
  readonly committed: ReadonlyMap<string, number>;
  readonly failed: ReadonlyMap<string, number>;
}

/** A stream of events from one broker. */
export interface Source {
  /**
   * Connects, verifies what it reads from exists, and starts delivering to `sink`. Resolves once
   * delivery has started; rejects with a {@link import('../errors.ts').SluiceError} that says
   * what is wrong (unreachable broker, missing subscription, bad credentials) within a bounded time.
   */
  start(sink: EventSink): Promise<void>;
  /** Stops fetching. Events already delivered may still be acked or nacked until close(). */
  stop(): Promise<void>;
  /** Commits / checkpoints everything acked, releases partitions, leases or streams, disconnects. */
  close(): Promise<void>;
  health(): Health;
  /**
   * The lag of each partition this source reads, computed when metrics are scraped from what the
   * source already tracks: cheap, and no broker calls.
   */
  lag(): Iterable<PartitionLag>;
  /** Commits made and failed, bumped by the source; read when metrics are scraped. */
  readonly commits: CommitTally;
}

/** An event to publish. */
export interface OutgoingEvent {
  readonly key?: string;
  readonly payload: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends events to a broker destination (topic, stream). */
export interface Publisher {
  connect(): Promise<void>;
  /**
   * Publishes a batch to `destination`. Resolves only when the broker confirmed every event;
   * rejects (error.retriable tells whether trying again may help) if any was not confirmed.
   * Events of one key keep their order.
   */
  publish(destination: string, events: readonly OutgoingEvent[]): Promise<void>;
  /** Flushes what is pending, then disconnects. */
  close(): Promise<void>;
}

/**
 * The runtime face of one broker adapter: what `sluice run` needs, and all the core is handed
 * (through the container, src/di). Built by the adapter's module (adapters/<type>/module.ts) from
 * its validated config section; only the configured adapter's module, and so its SDK, is loaded.
 * Tools (benchmarks, tests, `config check`) see more of it: src/broker/tooling.ts.
 */
export interface BrokerAdapter {
  /** `broker.type`: the label of its metrics and logs. */
  readonly type: string;
  /** A source reading what the adapter's config names (topics, stream, subscription). */
  createSource(): Source;
  createPublisher(): Publisher;
  /**
   * Optional: the publisher of dead letters, when they need more than createPublisher's (Pub/Sub:
   * a subscription that retains them for `sluice replay`). Default: createPublisher().
   */
  createDeadLetterPublisher?(): Publisher;
}
