/**
 * For the ack audit (ack-audit.ts) of an ordered log (a Kafka partition, a Kinesis shard, a
 * memory partition): the events delivered and not yet covered by a commit, in position order,
 * so that a commit can say which event ids it moves past. Filled only when the audit is on.
 *
 * The ids come from what the commit sends, not from what the tracker says is done: a commit
 * that moved past an event not yet processed lists that event, and the checker catches it.
 */
export class DeliveredLedger {
  private positions: string[] = [];
  private ids: string[] = [];
  private head = 0;

  /**
   * Records a delivered event. Positions arrive in order; one at or below the last recorded
   * (a redelivery after a nack, or a re-fetch after a rebalance) is already here, or was covered
   * by a commit already written to the audit, and is skipped. Several ids may share a position
   * (the user records of one KPL aggregate).
   */
  record(position: string, id: string): void {
    const last = this.positions[this.positions.length - 1];
    if (last !== undefined && comparePositions(position, last) < 0) return;
    if (last === position && this.ids[this.ids.length - 1] === id) return;
    if (last === position && this.ids.lastIndexOf(id) >= this.head) return;
    this.positions.push(position);
    this.ids.push(id);
  }

  /** Removes and returns the ids at positions below `position` (`inclusive`: up to and including it). */
  take(position: string, inclusive: boolean): string[] {
    let end = this.head;
    const length = this.positions.length;
    while (end < length) {
      const order = comparePositions(this.positions[end]!, position);
      if (order > 0 || (order === 0 && !inclusive)) break;
      end++;
    }
    const taken = this.ids.slice(this.head, end);
    this.head = end;
    if (this.head > 1024 && this.head * 2 > length) {
      this.positions = this.positions.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** Removes and returns every id (a shard's end: SHARD_END covers all). */
  takeAll(): string[] {
    const taken = this.ids.slice(this.head);
    this.clear();
    return taken;
  }

  /** Forgets everything (the partition was revoked, the lease lost). */
  clear(): void {
    this.positions = [];
    this.ids = [];
    this.head = 0;
  }

  get size(): number {
    return this.positions.length - this.head;
  }
}

/** The ledger of `key` in `ledgers`, created on first use. */
export function ledgerOf(ledgers: Map<string, DeliveredLedger>, key: string): DeliveredLedger {
  let ledger = ledgers.get(key);
  if (!ledger) {
    ledger = new DeliveredLedger();
    ledgers.set(key, ledger);
  }
  return ledger;
}

/** Orders decimal positions (Kafka offsets, Kinesis sequence numbers) without BigInt. */
export function comparePositions(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
