import { mkdir, readFile, rename, writeFile, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../../src/errors.ts';
import type { Lease, LeaseTable, NewLease } from './lease.ts';

interface FileShape {
  version: 1;
  stream: string;
  shards: Record<string, { checkpoint: string; parentShardIds?: string[]; childShardIds?: string[] }>;
}

/**
 * `leases.type: file`: the lease table of a single instance, kept in memory and persisted as a
 * JSON file of checkpoints. Every write goes to a temporary file that is fsynced and renamed
 * over the old one, so a crash leaves the old file or the new one, never half of one. Writes are
 * serialised and coalesced (the last state wins).
 *
 * There is no other instance to lose a lease to: ownership lives in memory and is forgotten on
 * restart, so the coordinator runs unchanged on top of it. Two processes must not share a file.
 */
export class FileLeaseTable implements LeaseTable {
  private readonly leases = new Map<string, Lease>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly stream: string,
  ) {}

  get description(): string {
    return `checkpoint file ${this.path}`;
  }

  async initialize(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ConfigError('broker.kinesis.leases.path', `cannot read ${this.path}: ${(error as Error).message}`);
    }
    let data: FileShape;
    try {
      data = JSON.parse(text) as FileShape;
    } catch (error) {
      throw new ConfigError('broker.kinesis.leases.path', `${this.path} is not valid JSON: ${(error as Error).message}`);
    }
    if (data.stream !== this.stream) {
      throw new ConfigError('broker.kinesis.leases.path', `${this.path} holds checkpoints of stream ${data.stream}, not ${this.stream}`);
    }
    for (const [leaseKey, shard] of Object.entries(data.shards ?? {})) {
      this.leases.set(leaseKey, {
        leaseKey,
        leaseOwner: undefined,
        leaseCounter: 0,
        checkpoint: shard.checkpoint,
        ownerSwitchesSinceCheckpoint: 0,
        parentShardIds: shard.parentShardIds ?? [],
        childShardIds: shard.childShardIds ?? [],
        streamName: this.stream,
      });
    }
  }

  async list(): Promise<Lease[]> {
    return [...this.leases.values()];
  }

  async create(lease: NewLease, streamName: string): Promise<boolean> {
    if (this.leases.has(lease.leaseKey)) return false;
    this.leases.set(lease.leaseKey, {
      leaseKey: lease.leaseKey,
      leaseOwner: undefined,
      leaseCounter: 0,
      checkpoint: lease.checkpoint,
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: lease.parentShardIds,
      childShardIds: [],
      streamName,
    });
    await this.persist();
    return true;
  }

  async take(seen: Lease, owner: string): Promise<Lease | undefined> {
    const current = this.leases.get(seen.leaseKey);
    if (!current || current.leaseCounter !== seen.leaseCounter) return undefined;
    return this.set({ ...current, leaseOwner: owner, leaseCounter: current.leaseCounter + 1 });
  }

  async renew(held: Lease, owner: string): Promise<Lease | undefined> {
    const current = this.leases.get(held.leaseKey);
    if (!current || current.leaseOwner !== owner || current.leaseCounter !== held.leaseCounter) return undefined;
    return this.set({ ...current, leaseCounter: current.leaseCounter + 1 });
  }

  async checkpoint(leaseKey: string, owner: string, checkpoint: string, childShardIds?: readonly string[]): Promise<boolean> {
    const current = this.leases.get(leaseKey);
    if (!current || current.leaseOwner !== owner) return false;
    this.set({ ...current, checkpoint, ownerSwitchesSinceCheckpoint: 0, childShardIds: childShardIds ?? current.childShardIds });
    await this.persist();
    return true;
  }

  async release(leaseKey: string, owner: string): Promise<boolean> {
    const current = this.leases.get(leaseKey);
    if (!current || current.leaseOwner !== owner) return false;
    this.set({ ...current, leaseOwner: undefined, leaseCounter: current.leaseCounter + 1 });
    return true;
  }

  async remove(leaseKey: string): Promise<void> {
    this.leases.delete(leaseKey);
    await this.persist();
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  private set(lease: Lease): Lease {
    this.leases.set(lease.leaseKey, lease);
    return lease;
  }

  /** Resolves once a write that includes the current state is on disk. */
  private persist(): Promise<void> {
    if (this.dirty) return this.writing;
    this.dirty = true;
    // A failed write fails its callers (the checkpointer tries again); the next one still runs.
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => {
        this.dirty = false;
        return this.writeFile();
      });
    return this.writing;
  }

  private async writeFile(): Promise<void> {
    const data: FileShape = { version: 1, stream: this.stream, shards: {} };
    for (const lease of this.leases.values()) {
      data.shards[lease.leaseKey] = {
        checkpoint: lease.checkpoint,
        ...(lease.parentShardIds.length ? { parentShardIds: [...lease.parentShardIds] } : {}),
        ...(lease.childShardIds.length ? { childShardIds: [...lease.childShardIds] } : {}),
      };
    }
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`);
    const handle = await open(temporary, 'r+');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}
