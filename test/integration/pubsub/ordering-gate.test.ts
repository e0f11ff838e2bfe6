// The ordering gate's bookkeeping, without a broker (it lives here with the adapter's tests).
import { describe, expect, it } from 'vitest';
import { OrderingGate, SUPERSEDED, type GatedEvent, type OrderingMode } from '../../../adapters/pubsub/ordering-gate.ts';

class FakeEvent implements GatedEvent {
  nackedWith: Error | undefined;
  constructor(
    readonly id: string,
    readonly key: string,
  ) {}
  nack(reason?: Error): void {
    this.nackedWith = reason;
  }
}

function setup(mode: OrderingMode, waitMs = 1_000) {
  let now = 0;
  const released: string[] = [];
  const nackedKeys: string[] = [];
  const gate = new OrderingGate<FakeEvent>(
    (event) => released.push(event.id),
    waitMs,
    mode,
    (key) => nackedKeys.push(key),
    () => now,
  );
  const admit = (id: string, key = 'k') => {
    const event = new FakeEvent(id, key);
    gate.admit(event, key);
    return event;
  };
  return { gate, released, nackedKeys, admit, advance: (ms: number) => (now += ms) };
}

describe('pubsub ordering gate, strict', () => {
  it('releases one event per key at a time, the next when the previous is acked', () => {
    const { gate, released, admit } = setup('strict');
    const a1 = admit('a1');
    const a2 = admit('a2');
    admit('b1', 'other');
    expect(released).toEqual(['a1', 'b1']);
    expect(gate.heldCount).toBe(1);
    gate.settled(a1, 'k', true);
    expect(released).toEqual(['a1', 'b1', 'a2']);
    gate.settled(a2, 'k', true);
    expect(gate.keyCount).toBe(1);
  });

  it('after a nack, nacks what is held and holds new arrivals until the nacked event is back', () => {
    const { gate, released, admit } = setup('strict');
    const a1 = admit('a1');
    const a2 = admit('a2');
    gate.settled(a1, 'k', false);
    expect(a2.nackedWith).toBe(SUPERSEDED);
    const late = admit('a3'); // an older copy still on its way
    expect(released).toEqual(['a1']);
    const again = admit('a1');
    expect(late.nackedWith).toBe(SUPERSEDED);
    expect(released).toEqual(['a1', 'a1']);
    gate.settled(again, 'k', true);
    admit('a2');
    expect(released).toEqual(['a1', 'a1', 'a2']);
  });

  it('gives up waiting for a redelivery after waitMs and lets held events through in order', () => {
    const { gate, released, admit, advance } = setup('strict', 1_000);
    const a1 = admit('a1');
    gate.settled(a1, 'k', false);
    admit('a2');
    admit('a3');
    advance(999);
    gate.sweep();
    expect(released).toEqual(['a1']);
    advance(1);
    gate.sweep();
    expect(released).toEqual(['a1', 'a2']);
  });

  it('ignores settling events it never released', () => {
    const { gate, released, admit } = setup('strict');
    admit('a1');
    const a2 = admit('a2');
    gate.settled(a2, 'k', true);
    expect(released).toEqual(['a1']);
  });
});

describe('pubsub ordering gate, nack', () => {
  it('holds nothing while events are acked', () => {
    const { gate, released, admit } = setup('nack');
    const a1 = admit('a1');
    admit('a2');
    gate.settled(a1, 'k', true);
    admit('a3');
    expect(released).toEqual(['a1', 'a2', 'a3']);
    expect(gate.keyCount).toBe(0);
  });

  it('on a nack asks for the later events back once, and holds new arrivals until the nacked one is back', () => {
    const { gate, released, nackedKeys, admit } = setup('nack');
    const a1 = admit('a1');
    const a2 = admit('a2');
    gate.settled(a1, 'k', false);
    gate.settled(a2, 'k', false); // taken back and nacked: must not start a wait of its own
    expect(nackedKeys).toEqual(['k']);
    const early = admit('a2'); // came back before a1
    admit('b1', 'other');
    expect(released).toEqual(['a1', 'a2', 'b1']);
    admit('a1');
    expect(early.nackedWith).toBe(SUPERSEDED);
    admit('a2');
    expect(released).toEqual(['a1', 'a2', 'b1', 'a1', 'a2']);
    expect(gate.keyCount).toBe(0);
  });

  it('releases what it held, in order, when the redelivery does not come', () => {
    const { gate, released, admit, advance } = setup('nack', 500);
    const a1 = admit('a1');
    gate.settled(a1, 'k', false);
    admit('a2');
    admit('a3');
    advance(500);
    gate.sweep();
    expect(released).toEqual(['a1', 'a2', 'a3']);
    expect(gate.heldCount).toBe(0);
  });
});
