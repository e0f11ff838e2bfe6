import type { Logger } from 'pino';
import type { SluiceError } from '../../src/errors.ts';
import { type CommitFilter, type Lifecycle, sleep } from '../../src/source-kit/index.ts';
import type { KafkaConfig } from './config.ts';
import type { KafkaMetrics } from './kafka-metrics.ts';
import type { PartitionBook, TopicPartition } from './partition-book.ts';

/** A Kafka source's states between new and closed/crashed (src/source-kit/lifecycle.ts). */
export type GroupState = 'joining' | 'joined' | 'rebalancing';

export interface MembershipDeps {
  config: KafkaConfig;
  logger: Logger;
  metrics: KafkaMetrics;
  lifecycle: Lifecycle<GroupState>;
  book: PartitionBook;
  /** Takes this source's events still waiting in the core's queue back; returns how many. */
  discardQueued(): number;
  /** Commits (serialized with the periodic commits); failures are logged. */
  commit(include?: CommitFilter): Promise<void>;
  /** The source cannot go on: Sluice stops and exits non-zero (sink.fatal). */
  fatal(error: SluiceError): void;
  toSluiceError(error: unknown): SluiceError;
  /** At the end of a revoke, once the tracker was reset (drop redeliveries, open a new stream). */
  afterRevoke(): void | Promise<void>;
}

/**
 * The Kafka source's group membership: which partitions it holds, the generation of its
 * tracker, and the revoke that ends one. The client bindings report what the group does
 * ({@link joined}, {@link rebalancing}, {@link crashed}); this decides what it means for
 * deliveries and commits.
 *
 * Revoke ({@link revoke}): deliveries stop (`epoch`), events of this source still waiting in the
 * core's queue are taken back (sink.discard), in-flight events get `revokeTimeoutMs` to finish,
 * their offsets are committed, the tracker is reset (`generation`: later acks and redeliveries of
 * those events are ignored).
 */
export class KafkaMembership {
  /** Partitions assigned at the last join, by `topic/partition`. */
  assignment = new Map<string, TopicPartition>();
  /** Bumped when the tracker is reset: redeliveries of older events are dropped. */
  generation = 0;
  /** Bumped when a revoke begins: records fetched before it are not delivered. */
  epoch = 0;
  revoking: Promise<void> | undefined;
  /** Between a revoke and the next join nothing is delivered. */
  awaitingJoin = false;
  /** A revoke ran (or runs) for the current generation of the group. */
  private revokedSinceJoin = false;
  private joins = 0;
  /** A failure was reported fatal: the source stays crashed (the client may go on crash-restarting until closed). */
  private gaveUp = false;
  private joinWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(private readonly deps: MembershipDeps) {}

  /** The first join is under way: resolves when {@link joined} is reported, rejects on a crash. */
  expectJoin(): Promise<void> {
    return new Promise<void>((resolve, reject) => (this.joinWaiter = { resolve, reject }));
  }

  /** Whether {@link expectJoin} waits still. */
  get firstJoinPending(): boolean {
    return this.joinWaiter !== undefined;
  }

  /** Whether records fetched at `epoch` may still be delivered. */
  current(epoch: number): boolean {
    return !this.awaitingJoin && epoch === this.epoch;
  }

  /** The group assigned these partitions (a join completed). */
  joined(assignment: Map<string, TopicPartition>): void {
    if (this.gaveUp) return;
    this.joins++;
    this.assignment = assignment;
    this.deps.lifecycle.to('joined');
    this.awaitingJoin = false;
    if (this.joinWaiter) {
      this.joinWaiter.resolve();
      this.joinWaiter = undefined;
    } else {
      this.deps.logger.info({ group: this.deps.config.group, partitions: [...assignment.keys()] }, 'kafka consumer group joined again');
    }
    // A join not preceded by a revoke (the client rejoined after a crash, an unknown member id,
    // changed metadata): what is in flight belongs to the old generation.
    const needsRevoke = this.joins > 1 && !this.revokedSinceJoin;
    this.revokedSinceJoin = false;
    if (needsRevoke) void this.revoke('the group was joined again');
    else if (!this.revoking) this.forgetUnassigned();
  }

  /**
   * The client noticed a rebalance and is rejoining (or about to). Returns the revoke, once per
   * generation (a second notice joins the one running). `keepAlive` heartbeats while it waits.
   */
  rebalancing(reason: string, keepAlive?: () => Promise<void>): Promise<void> | undefined {
    if (this.deps.lifecycle.closed) return undefined;
    this.deps.lifecycle.to('rebalancing');
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return this.revoking; // already revoked for this generation
    this.revokedSinceJoin = true;
    return this.revoke(reason, keepAlive);
  }

  /** The client failed; `restart` says whether it recovers by itself. */
  crashed(error: unknown, restart: boolean): void {
    const failure = this.deps.toSluiceError(error);
    if (this.joinWaiter) {
      this.joinWaiter.reject(error);
      this.joinWaiter = undefined;
      return;
    }
    const { lifecycle, logger } = this.deps;
    if (lifecycle.closed || this.gaveUp) return;
    this.gaveUp = !restart;
    lifecycle.crashed(`consumer failed: ${failure.message}${restart ? '; restarting' : ''}`);
    logger.error({ error: failure.message, restart }, 'kafka consumer failed');
    // Not recovering: Sluice stops and exits non-zero so a supervisor can start it again.
    if (!restart) this.deps.fatal(failure);
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return;
    this.revokedSinceJoin = true;
    void this.revoke('consumer failed');
  }

  /** Runs one revoke at a time; `keepAlive` is called every heartbeatIntervalMs while it waits. */
  revoke(reason: string, keepAlive?: () => Promise<void>): Promise<void> {
    // Counted per rebalance noticed, also when it joins a revoke still running for the last one.
    this.deps.metrics.rebalances++;
    this.revoking ??= this.runRevoke(reason, keepAlive).finally(() => {
      this.revoking = undefined;
    });
    return this.revoking;
  }

  /** Drops the bookkeeping of partitions this member no longer holds. */
  forgetUnassigned(): void {
    this.deps.book.forget((key) => this.assignment.has(key));
  }

  private async runRevoke(reason: string, keepAlive: (() => Promise<void>) | undefined): Promise<void> {
    const { book, config, lifecycle, logger } = this.deps;
    this.epoch++;
    const joinsAtStart = this.joins;
    const assignmentAtStart = this.assignment;
    // Events of ours still waiting in the core's queue are taken back: the partitions' next
    // owner delivers them again, so processing them here would only duplicate. Their tickets
    // stay pending, which keeps the commit below them.
    const discarded = this.deps.discardQueued();
    const inFlight = book.inFlight() - discarded;
    logger.info({ group: config.group, reason, inFlight, discarded }, 'kafka partitions revoked: finishing in-flight events');
    const deadline = Date.now() + config.revokeTimeoutMs;
    let lastBeat = Date.now();
    while (book.inFlight() > discarded && Date.now() < deadline && !lifecycle.closed) {
      await sleep(10);
      if (keepAlive && Date.now() - lastBeat >= config.heartbeatIntervalMs) {
        lastBeat = Date.now();
        keepAlive().catch(() => undefined);
      }
    }
    const unfinished = book.inFlight() - discarded;
    // When the group was joined meanwhile (or the assignment changed), commit only partitions
    // this member still holds: a moved partition's new owner may have committed further already.
    const moved = this.joins !== joinsAtStart || this.assignment !== assignmentAtStart;
    await this.deps.commit(moved ? (key) => this.assignment.has(key) : undefined);
    if (unfinished > 0) {
      logger.warn(
        { group: config.group, unfinished, revokeTimeoutMs: config.revokeTimeoutMs },
        'kafka revoke: events still in flight were released; the partition owner will deliver them again',
      );
    }
    this.generation++;
    book.reset();
    if (moved || !this.awaitingJoin) this.forgetUnassigned();
    await this.deps.afterRevoke();
  }
}
