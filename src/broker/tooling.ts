/**
 * The tooling contract: what benchmarks, tests and `sluice config check` know about a broker
 * beyond the runtime contract (./contract.ts). `sluice run` and the core never read it.
 *
 * Each adapter supplies it from its folder: the adapter object itself ({@link BrokerTooling}:
 * features and admin), its module (adapters/<type>/module.ts, {@link AdapterModule}: retarget,
 * config checks) and, for benchmarks, adapters/<type>/bench-hooks.ts ({@link BenchHooks}: the
 * bare SDK baseline). Tools reach all three through the composition root
 * (src/composition/adapters.ts), never by importing an adapter's files: so a benchmark names no
 * SDK class, and an adapter can change its internals without breaking one.
 */
import type { ConfigError } from '../errors.ts';
import type { AdapterDeps } from './adapter-deps.ts';
import type { BrokerAdapter, SourceEvent } from './contract.ts';
import type { AdapterUse, CheckOptions, ResourceCheck } from './preflight.ts';

/**
 * What a broker can do. The universal contract suite (test/contract) reads it to know which of
 * its cases apply, as Watermill's suite reads its features: a case a broker cannot pass is skipped
 * by name, never silently.
 */
export interface BrokerFeatures {
  /** Events of one partition / shard / ordering key arrive in publish order. */
  readonly orderedByKey: boolean;
  /** Acked progress survives a restart of the consumer (committed offsets, checkpoints). */
  readonly persistent: boolean;
  /** Several sources of one group share the work without loss. */
  readonly consumerGroups: boolean;
  /** nack() leads to a prompt redelivery by the same source. */
  readonly redeliversOnNack: boolean;
  /**
   * After a nack, no later event of the same key is handed to a worker before the nacked one is
   * delivered again: the source takes the key's later events back (sink.discard) and delivers
   * them after it. Without it, a nack (a failed handler with no dead-letter destination) lets
   * the key's later events overtake the failed one.
   */
  readonly nackKeepsKeyOrder: boolean;
  /**
   * A member joining the group takes partitions / shards from the others; events the old owner
   * delivered and the core had not started are taken back (sink.discard) and delivered again by
   * the new owner. False where nothing is handed over (Pub/Sub leases messages one by one).
   */
  readonly handsOverPartitions: boolean;
  /** Headers (Kafka headers, Pub/Sub attributes, the Kinesis envelope) come back as published. */
  readonly headers: boolean;
  /**
   * The largest payload (without headers) the adapter carries, bytes: the broker's limit less
   * its overhead. The contract suite publishes one of this size (at most 3 MiB, for CI time).
   */
  readonly maxPayloadBytes: number;
  /**
   * When what the source reads is deleted under it (subscription, stream), the source reports
   * it through sink.fatal (after its grace period) instead of retrying forever.
   */
  readonly fatalOnLostDestination: boolean;
}

/** Management a test or benchmark needs: fresh destinations per run. */
export interface BrokerAdmin {
  /** Creates a destination (topic, stream, topic+subscription) with `partitions` partitions/shards. */
  createDestination(name: string, options?: { partitions?: number }): Promise<void>;
  deleteDestination(name: string): Promise<void>;
  close(): Promise<void>;
}

/** The tooling face of an adapter object. */
export interface BrokerTooling {
  readonly features: BrokerFeatures;
  createAdmin(): BrokerAdmin;
}

/** An adapter as tools hold it: the runtime factory and its tooling. */
export type ToolingAdapter = BrokerAdapter & BrokerTooling;

/** What an adapter's module (adapters/<type>/module.ts) exports. */
export interface AdapterModule {
  createAdapter(config: never, deps: AdapterDeps): ToolingAdapter;
  /**
   * A copy of a validated config section that reads `destination` (topic, stream, or topic with
   * its subscription) as consumer group / subscription `group`, and publishes there: benchmarks
   * and tests use it to run on fresh names.
   */
  retarget(config: never, destination: string, group: string): unknown;
  /**
   * Optional (`sluice replay`): the consumer group / subscription that reads dead-letter
   * destination `from` when --group is not given (Pub/Sub: the one that retained them all).
   * Default: `sluice-replay-<from>`.
   */
  replayGroup?(config: never, from: string): string | undefined;
  /**
   * Optional (`sluice replay`): set when a new process cannot read this broker's dead letters,
   * saying why and what to do instead; the replay then fails with it rather than reading nothing.
   */
  readonly replayUnsupported?: string;
  /**
   * Optional (`sluice config check`): what start-up requires beyond the schema, found without
   * connecting; every problem as a ConfigError naming its key. See ./preflight.ts.
   */
  preflight?(config: never, use: AdapterUse, env: NodeJS.ProcessEnv): Promise<ConfigError[]>;
  /**
   * Optional (`sluice config check --connect`): reaches the broker and each resource the section
   * names, one result per thing checked, each within `options.timeoutMs`. See ./preflight.ts.
   */
  checkResources?(config: never, use: AdapterUse, options: CheckOptions): AsyncIterable<ResourceCheck>;
}

/** One message as a bare reader hands it to a benchmark. */
export interface BareMessage {
  readonly id: string;
  readonly payload: Buffer;
  /** Broker timestamp (append / publish time), ms since the epoch. */
  readonly timestamp: number;
}

export interface BareReadOptions {
  /** `count` more messages were read: called per batch the SDK hands over, as cheaply as it allows. */
  onRead(count: number): void;
  /**
   * Per message, when the benchmark needs ids or contents (duplicates, latency); called before
   * {@link onRead} counts it. Costs a call and an object per message, so only give it when needed.
   */
  onMessage?(message: BareMessage): void;
  /**
   * Sluice's queue (its defaults, or what the benchmark runs Sluice with): a reader whose SDK has
   * flow control of its own (Pub/Sub) gets what Sluice's source would derive from it.
   */
  readonly queue: { readonly maxEvents: number; readonly maxBytes: number };
  /**
   * For brokers read by polling (Kinesis): the least time between two fetches of one shard, ms;
   * absent, the pace Sluice's source keeps (its poll interval); 0, back to back.
   */
  readonly fetchSpacingMs?: number;
}

/** A bare reader at work. */
export interface BareReader {
  /** How it is set up, one phrase for the benchmark's log (flow control, fetch limit). */
  readonly description: string;
  /**
   * Settles when the reader stopped by itself because it read everything there was (a polling
   * reader that caught up); stays pending for readers that keep waiting for more.
   */
  readonly ended: Promise<void>;
  /** Stops reading, closes the client. Commits nothing. */
  stop(): Promise<void>;
}

/**
 * What a broker's benchmark (src/bench/<broker>-bench.ts) needs beyond the contract, supplied by
 * adapters/<type>/bench-hooks.ts. Each hook takes the adapter's validated config section.
 */
export interface BenchHooks {
  /**
   * The baseline Sluice is measured against: the broker's SDK alone (for Kafka, the library that
   * `config.client` names), reading from the start what `config` names as its group /
   * subscription, committing nothing, doing nothing but count. Resolves once reading started.
   */
  bareReader?(config: never, options: BareReadOptions): Promise<BareReader>;
  /**
   * When the SDK handed `event` to the adapter, ms since the epoch, where the adapter keeps it:
   * the start of Sluice's own share of the latency.
   */
  receivedAt?(event: SourceEvent): number | undefined;
  /**
   * An adapter on a broker of its own, not shared with the rest of the process (the in-process
   * broker only): a benchmark holds several with different backlog limits.
   */
  isolated?(config: never): ToolingAdapter;
}
