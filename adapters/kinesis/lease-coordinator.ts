import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import { SHARD_END, type Lease, type LeaseTable } from './lease.ts';
import { KinesisMetrics } from './metrics.ts';
import type { ShardSync } from './shard-sync.ts';

/** What the coordinator tells the source. */
export interface LeaseHost {
  /** This instance now holds `lease`: start reading its shard from its checkpoint. */
  acquired(lease: Lease): void;
  /** The lease is gone (taken by another instance, or not renewed in time): stop reading at once. */
  lost(shardId: string): void;
}

export interface CoordinatorOptions {
  workerId: string;
  /** A lease whose counter did not move for this long belongs to a dead owner. */
  durationMs: number;
  renewIntervalMs: number;
  takeIntervalMs: number;
  shardSyncIntervalMs: number;
}

interface Held {
  lease: Lease;
  /** When the last successful renew (or the take) was sent. */
  renewedAt: number;
}

/**
 * Holds this instance's share of the shards, KCL style:
 *  - renew: every `renewIntervalMs`, each held lease's counter is bumped (conditional on counter
 *    and owner); a failed condition means the lease was taken. A lease that could not be renewed
 *    for `durationMs` (table unreachable) is given up too, since others may take it by then.
 *  - take: every `takeIntervalMs`, the table is scanned. A lease is free if it has no owner, or
 *    if its counter has not moved for `durationMs` by our clock (no clock sync needed). Shards
 *    whose parents are not finished are not eligible. Each instance takes free leases up to its
 *    fair share, ceil(eligible / live instances), and when none is free steals one lease per
 *    cycle from the most loaded instance if that one holds more than the fair share.
 *  - shard sync (shard-sync.ts) runs before a take every `shardSyncIntervalMs`, and at once
 *    when a shard ended (its children may now start).
 */
export class LeaseCoordinator {
  private readonly held = new Map<string, Held>();
  private readonly seen = new Map<string, { counter: number; owner: string | undefined; at: number }>();
  private renewTimer: NodeJS.Timeout | undefined;
  private takeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private syncDue = true;
  private lastSync = 0;
  private stopped = false;
  private lastTableSuccess = Date.now();
  lastError: string | undefined;

  constructor(
    private readonly table: LeaseTable,
    private readonly shardSync: ShardSync,
    private readonly options: CoordinatorOptions,
    private readonly host: LeaseHost,
    private readonly logger: Logger,
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
  ) {}

  get workerId(): string {
    return this.options.workerId;
  }

  /** First sync and take, bounded by `signal`; then the renew and take timers. */
  async start(signal: AbortSignal): Promise<void> {
    await this.shardSync.sync(signal);
    this.syncDue = false;
    this.lastSync = Date.now();
    await this.takeCycle();
    this.scheduleRenew();
    this.scheduleTake();
  }

  holds(shardId: string): boolean {
    return this.held.has(shardId);
  }

  get heldCount(): number {
    return this.held.size;
  }

  /**
   * False when the lease table has not answered for a lease duration while this instance holds
   * leases (renewals run every third of it, so that is three failed renewals in a row, and its
   * leases are being lost), or for two lease durations (or two scans, if longer) while it holds
   * none (only the scans talk to the table then). The drill measured SluiceNotReady 55 s after a
   * cut with two durations in both cases: too close to the one-minute goal.
   */
  get healthy(): boolean {
    const { durationMs, takeIntervalMs } = this.options;
    const window = this.held.size > 0 ? durationMs : 2 * Math.max(durationMs, takeIntervalMs);
    return Date.now() - this.lastTableSuccess < window;
  }

  /**
   * Writes a checkpoint, conditional on still owning the lease (by the table, not by our
   * memory: a lease that expired locally but was not taken can still be checkpointed).
   * 'lost' if another instance owns it. Throws on other errors.
   */
  async checkpoint(shardId: string, checkpoint: string, childShardIds?: readonly string[]): Promise<'ok' | 'lost'> {
    const written = await this.table.checkpoint(shardId, this.options.workerId, checkpoint, childShardIds);
    this.lastTableSuccess = Date.now();
    return written ? 'ok' : 'lost';
  }

  /** Gives a lease up (shard finished, or shutting down) so that it is free at once. */
  async release(shardId: string): Promise<void> {
    this.held.delete(shardId);
    this.metrics.owned(this.held.size);
    try {
      await this.table.release(shardId, this.options.workerId);
    } catch (error) {
      // It expires by itself after the lease duration.
      this.logger.warn({ shard: shardId, error: errorMessage(error) }, 'kinesis: could not release lease');
    }
  }

  /** Runs a shard sync and a take cycle soon (a shard ended: its children may be eligible). */
  requestSync(): void {
    this.syncDue = true;
    void this.runTakeCycle();
  }

  /** Stops renewing and taking. Held leases stay held until released or expired. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.takeTimer);
    await this.running;
  }

  heldShards(): string[] {
    return [...this.held.keys()];
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => {
      this.renewAll().finally(() => this.scheduleRenew());
    }, this.options.renewIntervalMs);
    this.renewTimer.unref();
  }

  private scheduleTake(): void {
    if (this.stopped) return;
    this.takeTimer = setTimeout(() => {
      if (Date.now() - this.lastSync >= this.options.shardSyncIntervalMs) this.syncDue = true;
      this.runTakeCycle().finally(() => this.scheduleTake());
    }, this.options.takeIntervalMs);
    this.takeTimer.unref();
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([shardId, held]) => {
        const sentAt = Date.now();
        try {
          const renewed = await this.table.renew(held.lease, this.options.workerId);
          this.lastTableSuccess = Date.now();
          if (this.held.get(shardId) !== held) return; // released meanwhile
          if (renewed) {
            held.lease = renewed;
            held.renewedAt = sentAt;
          } else {
            this.lose(shardId, 'taken by another instance');
          }
        } catch (error) {
          this.lastError = errorMessage(error);
          if (this.held.get(shardId) === held && Date.now() - held.renewedAt > this.options.durationMs) {
            this.lose(shardId, `not renewed for ${this.options.durationMs} ms: ${this.lastError}`);
          }
        }
      }),
    );
  }

  private lose(shardId: string, why: string): void {
    if (!this.held.delete(shardId)) return;
    this.metrics.leaseLost();
    this.metrics.owned(this.held.size);
    this.logger.info({ shard: shardId, worker: this.options.workerId, why }, 'kinesis: lease lost');
    this.host.lost(shardId);
  }

  /** Runs a take cycle; a request during one runs another right after. */
  private runTakeCycle(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (this.stopped) break;
        try {
          if (this.syncDue) {
            this.syncDue = false;
            this.lastSync = Date.now();
            await this.shardSync.sync();
          }
          await this.takeCycle();
        } catch (error) {
          this.lastError = errorMessage(error);
          this.logger.warn({ error: this.lastError }, 'kinesis: lease take cycle failed; trying again next cycle');
        }
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
    return this.running;
  }

  private async takeCycle(): Promise<void> {
    const me = this.options.workerId;
    const leases = await this.table.list();
    this.lastTableSuccess = Date.now();
    const now = Date.now();
    const byKey = new Map(leases.map((lease) => [lease.leaseKey, lease]));
    for (const lease of leases) {
      const seen = this.seen.get(lease.leaseKey);
      if (!seen || seen.counter !== lease.leaseCounter || seen.owner !== lease.leaseOwner) {
        this.seen.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, at: now });
      }
    }
    for (const key of this.seen.keys()) if (!byKey.has(key)) this.seen.delete(key);

    // Leases we hold that the table gives to someone else: lost (a renew would find out too).
    for (const shardId of [...this.held.keys()]) {
      const lease = byKey.get(shardId);
      if (!lease || lease.leaseOwner !== me) {
        this.lose(shardId, 'owned by another instance in the lease table');
      }
    }

    const finished = (shardId: string) => {
      const lease = byKey.get(shardId);
      return lease === undefined || lease.checkpoint === SHARD_END;
    };
    const eligible = leases.filter((lease) => lease.checkpoint !== SHARD_END && lease.parentShardIds.every(finished));
    const expired = (lease: Lease) => now - this.seen.get(lease.leaseKey)!.at > this.options.durationMs;
    const available: Lease[] = [];
    const others = new Map<string, Lease[]>();
    for (const lease of eligible) {
      if (this.held.has(lease.leaseKey)) continue;
      const owner = lease.leaseOwner;
      if (owner === undefined || owner === me || expired(lease)) available.push(lease);
      else others.set(owner, [...(others.get(owner) ?? []), lease]);
    }
    const target = Math.ceil(eligible.length / (others.size + 1));
    let need = target - this.held.size;
    for (const lease of shuffle(available)) {
      if (need <= 0 || this.stopped) break;
      if (await this.take(lease)) need--;
    }
    if (need > 0 && available.length === 0 && !this.stopped) {
      let victim: Lease[] = [];
      for (const leasesOfOwner of others.values()) if (leasesOfOwner.length > victim.length) victim = leasesOfOwner;
      if (victim.length > target) {
        const lease = victim[Math.floor(Math.random() * victim.length)]!;
        if (await this.take(lease))
          this.logger.info({ shard: lease.leaseKey, from: lease.leaseOwner, target }, 'kinesis: lease stolen to balance');
      }
    }
  }

  private async take(seen: Lease): Promise<boolean> {
    const sentAt = Date.now();
    const lease = await this.table.take(seen, this.options.workerId);
    if (!lease) return false;
    if (this.stopped) {
      await this.table.release(lease.leaseKey, this.options.workerId).catch(() => undefined);
      return false;
    }
    this.held.set(lease.leaseKey, { lease, renewedAt: sentAt });
    if (seen.leaseOwner !== undefined && seen.leaseOwner !== this.options.workerId) this.metrics.takeover();
    this.metrics.owned(this.held.size);
    this.logger.info(
      { shard: lease.leaseKey, worker: this.options.workerId, from: seen.leaseOwner, checkpoint: lease.checkpoint },
      'kinesis: lease taken',
    );
    this.host.acquired(lease);
    return true;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
