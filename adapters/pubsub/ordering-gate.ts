/** What the gate needs of an event. */
export interface GatedEvent {
  readonly id: string;
  readonly key: string | undefined;
  nack(reason?: Error): void;
}

/**
 * - `nack`: nothing is held while all goes well. When an event of a key is nacked, the source
 *   takes the key's later events back from the core (they have not started) and nacks them, and
 *   the gate holds the key's new arrivals until the nacked message is delivered again.
 * - `strict`: additionally, the core has one event of a key at a time; the next is released when
 *   the previous was acked.
 */
export type OrderingMode = 'nack' | 'strict';

interface KeyState<E> {
  /** strict: the event of this key the core has now. */
  current: E | undefined;
  /** FIFO: held[head..] wait; shifting an index keeps a long queue of a hot key O(1). */
  held: (E | undefined)[];
  head: number;
  /** After a nack: the id of the nacked message whose redelivery later events wait for. */
  awaiting: string | undefined;
  awaitingUntil: number;
}

/** The reason given when the gate (or the source for it) nacks an event that has to come again after an earlier one. */
export const SUPERSEDED = new Error('behind a nacked event of the same ordering key; Pub/Sub delivers it again after that one');

/**
 * Keeps a nacked event of an ordered subscription from being overtaken by later events of its key.
 *
 * Why the adapter has to: the pool (pool.orderByKey) runs the next event of a key as soon as the
 * previous one *finished*, also when it finished with a nack. Pub/Sub then redelivers the nacked
 * message (and, on ordered subscriptions, the ones after it), but the later events would already
 * have been processed once before the earlier one succeeded. So on a nack:
 *  - the later events of the key are taken back from the core / nacked (`onNack`, the source's
 *    job: in `strict` mode they are all still here), so Pub/Sub delivers them again after it;
 *  - events of the key that arrive meanwhile are held until the nacked message comes back (then
 *    they are nacked too: they are older copies, or came early) or `waitMs` passed (the redelivery
 *    went to another client, or to Pub/Sub's dead-letter topic; then they proceed in order).
 * A key has state here only while it waits for a redelivery (and, in `strict` mode, while one of
 * its events is in the core), so the normal path costs one Map lookup.
 */
export class OrderingGate<E extends GatedEvent> {
  private readonly keys = new Map<string, KeyState<E>>();
  private readonly awaitingKeys = new Set<string>();
  private readonly strict: boolean;
  /** Events waiting here behind another of their key. */
  heldCount = 0;

  constructor(
    /** Hands an event to the core (the source's delivery buffer). */
    private readonly release: (event: E) => void,
    private readonly waitMs: number,
    mode: OrderingMode,
    /** An event of `key` was nacked: take its later events back from the core and nack them. */
    private readonly onNack: (key: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.strict = mode === 'strict';
  }

  /** A message of an ordering key arrived from Pub/Sub. */
  admit(event: E, key: string): void {
    const state = this.keys.get(key);
    if (!state) {
      if (this.strict) this.keys.set(key, { current: event, held: [], head: 0, awaiting: undefined, awaitingUntil: 0 });
      this.release(event);
      return;
    }
    if (state.awaiting !== undefined && event.id === state.awaiting) {
      // The nacked message is back. What arrived before it comes again after it.
      this.dropHeld(state);
      state.awaiting = undefined;
      this.awaitingKeys.delete(key);
      if (this.strict) state.current = event;
      else this.keys.delete(key);
      this.release(event);
      return;
    }
    if (state.current !== undefined || state.awaiting !== undefined) {
      state.held.push(event);
      this.heldCount++;
      return;
    }
    state.current = event; // strict, key idle
    this.release(event);
  }

  /** The core acked (`acked`) or nacked an event of `key`. Events the gate did not release are ignored. */
  settled(event: E, key: string, acked: boolean): void {
    const state = this.keys.get(key);
    if (this.strict) {
      if (!state || state.current !== event) return;
      state.current = undefined;
      if (acked) {
        this.next(key, state);
        return;
      }
      this.dropHeld(state);
      this.await(key, state, event);
      return;
    }
    if (acked || state?.awaiting !== undefined) return; // already waiting for an earlier nacked one
    const fresh: KeyState<E> = { current: undefined, held: [], head: 0, awaiting: undefined, awaitingUntil: 0 };
    this.keys.set(key, fresh);
    this.await(key, fresh, event);
    this.onNack(key);
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
      if (this.strict) {
        if (state.current === undefined) this.next(key, state);
        continue;
      }
      this.keys.delete(key);
      const held = state.held;
      this.heldCount -= held.length - state.head;
      for (let i = state.head; i < held.length; i++) this.release(held[i]!);
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

  private await(key: string, state: KeyState<E>, event: E): void {
    state.awaiting = event.id;
    state.awaitingUntil = this.now() + this.waitMs;
    this.awaitingKeys.add(key);
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
