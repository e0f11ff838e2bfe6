/**
 * A shard lease, in the KCL's layout (one item per shard in the lease table):
 *
 *   leaseKey                      S   hash key: the shard id
 *   leaseOwner                    S   worker holding the lease; absent when free
 *   leaseCounter                  N   bumped by every renew / take / release; conditional writes
 *                                     compare it, and a counter that stops moving for the lease
 *                                     duration marks a dead owner
 *   checkpoint                    S   last processed sequence number, or TRIM_HORIZON / LATEST /
 *                                     AT_TIMESTAMP (nothing processed yet), or SHARD_END
 *   checkpointSubSequenceNumber   N   always 0: whole Kinesis records are checkpointed
 *   ownerSwitchesSinceCheckpoint  N
 *   parentShardId                 SS  parents (split: one; merge: two); the KCL's name
 *   childShardId                  SS  written when the shard ends
 *   streamName                    S   Sluice's addition: refuses a table of another stream
 */
export const SHARD_END = 'SHARD_END';
export const TRIM_HORIZON = 'TRIM_HORIZON';
export const LATEST = 'LATEST';
export const AT_TIMESTAMP = 'AT_TIMESTAMP';

export type InitialPosition = typeof TRIM_HORIZON | typeof LATEST | typeof AT_TIMESTAMP;

export interface Lease {
  readonly leaseKey: string;
  readonly leaseOwner: string | undefined;
  readonly leaseCounter: number;
  readonly checkpoint: string;
  readonly ownerSwitchesSinceCheckpoint: number;
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  readonly streamName: string | undefined;
}

export interface NewLease {
  readonly leaseKey: string;
  readonly checkpoint: string;
  readonly parentShardIds: readonly string[];
}

/**
 * Where leases live: a DynamoDB table shared by instances (lease-table.ts) or, for a single
 * instance, a local JSON file (file-lease-table.ts). Every write that depends on ownership is
 * conditional, so two instances can never both believe a write of theirs won.
 */
export interface LeaseTable {
  /** A short description for logs and health. */
  readonly description: string;
  /** Creates the table if allowed and missing, and checks it answers; bounded by `signal`. */
  initialize(signal: AbortSignal): Promise<void>;
  /** Every lease (consistent read). */
  list(): Promise<Lease[]>;
  /** Creates a lease unless one exists for the shard. True if this call created it. */
  create(lease: NewLease, streamName: string): Promise<boolean>;
  /** Takes `seen` for `owner` if its counter is still the one seen. The new lease, or undefined if it changed. */
  take(seen: Lease, owner: string): Promise<Lease | undefined>;
  /** Bumps the counter of a lease `owner` holds. The new lease, or undefined if it was lost. */
  renew(held: Lease, owner: string): Promise<Lease | undefined>;
  /** Writes a checkpoint if `owner` still holds the lease. False if it does not. */
  checkpoint(leaseKey: string, owner: string, checkpoint: string, childShardIds?: readonly string[]): Promise<boolean>;
  /** Gives the lease up (owner removed) so another instance takes it at once. False if not held. */
  release(leaseKey: string, owner: string): Promise<boolean>;
  /** Removes the lease of a shard that no longer exists. */
  remove(leaseKey: string): Promise<void>;
  close(): Promise<void>;
}

/** True when the lease's checkpoint is a sequence number, not a sentinel. */
export function isSequenceNumber(checkpoint: string): boolean {
  return checkpoint.length > 0 && checkpoint.charCodeAt(0) >= 48 && checkpoint.charCodeAt(0) <= 57;
}
