/**
 * Ids of messages this source acked lately, so that a copy Pub/Sub delivers again afterwards is
 * acked at once instead of being processed a second time.
 *
 * Pub/Sub is at-least-once: a message whose ack arrives after its lease expired (or whose ack the
 * server never saw) comes back. Under overload this feeds itself: copies queue behind the
 * backlog, wait past their own deadline and come back again. Measured on the emulator (2× overload
 * for 90 s, a 664-message flow control, 20 ms per event): 36,972 duplicates and a backlog that never
 * drained, because every copy cost a handler call. Acking the copy of an event Sluice already
 * finished costs one ack; processing it again costs the handler, and that capacity is what the
 * backlog needs. (A copy of a message still being processed is joined to it instead:
 * PubSubEvent.copies.)
 *
 * Bounded twice: an id is forgotten after `windowMs`, and the oldest ids go first beyond
 * `maxIds`. Only acked ids are kept: a nacked message must be processed again. Per source, in
 * memory: a restarted Sluice, or another replica, processes such a copy as any redelivery.
 */
export class RecentAcks {
  /** id → when it was acked; a Map iterates in insertion order, so the oldest come first. */
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly maxIds: number,
    private readonly windowMs: number,
  ) {}

  get size(): number {
    return this.ids.size;
  }

  add(id: string, now: number): void {
    if (this.maxIds === 0) return;
    this.ids.delete(id);
    this.ids.set(id, now);
    while (this.ids.size > this.maxIds) this.ids.delete(this.ids.keys().next().value as string);
    for (const [oldest, at] of this.ids) {
      if (now - at < this.windowMs) break;
      this.ids.delete(oldest);
    }
  }

  has(id: string, now: number): boolean {
    const at = this.ids.get(id);
    return at !== undefined && now - at < this.windowMs;
  }

  clear(): void {
    this.ids.clear();
  }
}
