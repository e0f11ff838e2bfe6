/** What the gate needs of an event. */
export interface GatedEvent {
  readonly id: string;
  readonly key: string | undefined;
  nack(reason?: Error): void;
}

interface KeyState<E> {
  /** The event of this key the core has now; later ones wait in `held`. */
  current: E | undefined;
  /** FIFO: held[head..] wait; shifting an index keeps a long queue of a hot key O(1). */
  held: (E | undefined)[];
  head: number;
  /** After a nack: the id of the nacked message whose redelivery later events wait for. */
  awaiting: string | undefined;
  awaitingUntil: number;
}

const SUPERSEDED = new Error('held behind a nacked event of the same ordering key; Pub/Sub delivers it again after that one');

/**
 * Per-ordering-key admission for ordered subscriptions: the core gets one event of a key at a
 * time, the next one only after the previous was acked.
 *
 * Why the adapter does this although the pool can serialise keys (pool.orderByKey): the pool runs
 * the next event of a key as soon as the previous one *finished*, also when it finished with a
 * nack. Pub/Sub then redelivers the nacked message (and, on ordered subscriptions, the ones after
 * it), so the later events would already have been processed once before the earlier one
 * succeeded. Here, a nack instead:
 *  - nacks every later event of the key held here (Pub/Sub delivers them again after the nacked
 *    one), and
 *  - holds every event of the key that arrives meanwhile, until the nacked message comes back
 *    (then those are nacked too: they are older copies) or `waitMs` passed (the redelivery went to
 *    another client, or the message went to Pub/Sub's dead-letter topic; then they proceed).
 * The price: a key has one event in the core at a time, so one hot key cannot use the whole pool,
 * and held events count against the client's flow control.
 */
export class OrderingGate<E extends GatedEvent> {
  private readonly keys = new Map<string, KeyState<E>>();
  private readonly awaitingKeys = new Set<string>();
  /** Events waiting behind another of their key. */
  heldCount = 0;

  constructor(
    /** Hands an event to the core (the source's delivery buffer). */
    private readonly release: (event: E) => void,
    private readonly waitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A message of an ordering key arrived from Pub/Sub. */
  admit(event: E, key: string): void {
    const state = this.keys.get(key);
    if (!state) {
      this.keys.set(key, { current: event, held: [], head: 0, awaiting: undefined, awaitingUntil: 0 });
      this.release(event);
      return;
    }
    if (state.awaiting !== undefined && event.id === state.awaiting) {
      // The nacked message is back. What arrived before it is an older copy that Pub/Sub sends again after it.
      this.dropHeld(state);
      state.awaiting = undefined;
      this.awaitingKeys.delete(key);
      state.current = event;
      this.release(event);
      return;
    }
    if (state.current !== undefined || state.awaiting !== undefined) {
      state.held.push(event);
      this.heldCount++;
      return;
    }
    state.current = event;
    this.release(event);
  }

  /** The core acked (`acked`) or nacked an event. Events it never had are ignored. */
  settled(event: E, key: string, acked: boolean): void {
    const state = this.keys.get(key);
    if (!state || state.current !== event) return;
    state.current = undefined;
    if (acked) {
      this.next(key, state);
      return;
    }
    this.dropHeld(state);
    state.awaiting = event.id;
    state.awaitingUntil = this.now() + this.waitMs;
    this.awaitingKeys.add(key);
  }

  /** Stops waiting for redeliveries that did not come within `waitMs`. Call periodically. */
  sweep(): void {
    if (this.awaitingKeys.size === 0) return;
    const now = this.now();
    for (const key of this.awaitingKeys) {
      const state = this.keys.get(key)!;
      if (now < state.awaitingUntil) continue;
      state.awaiting = undefined;
      this.awaitingKeys.delete(key);
      if (state.current === undefined) this.next(key, state);
    }
  }

  /** Forgets everything (the source closed; the client nacks what it still holds). */
  clear(): void {
    this.keys.clear();
    this.awaitingKeys.clear();
    this.heldCount = 0;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  private next(key: string, state: KeyState<E>): void {
    const next = state.held[state.head];
    if (next) {
      state.held[state.head++] = undefined;
      if (state.head === state.held.length) {
        state.held = [];
        state.head = 0;
      }
      this.heldCount--;
      state.current = next;
      this.release(next);
    } else if (state.awaiting === undefined) {
      this.keys.delete(key);
    }
  }

  private dropHeld(state: KeyState<E>): void {
    const held = state.held;
    const head = state.head;
    if (held.length === head) return;
    state.held = [];
    state.head = 0;
    this.heldCount -= held.length - head;
    for (let i = head; i < held.length; i++) held[i]!.nack(SUPERSEDED);
  }
}
