// The ordering guard's bookkeeping, without a broker (it lives here with the adapter's tests).
import { describe, expect, it } from 'vitest';
import { OrderingGate, type GatedEvent } from '../../../adapters/pubsub/ordering-gate.ts';

class FakeEvent implements GatedEvent {
  nacked = false;
  constructor(
    readonly id: string,
    readonly key: string,
  ) {}
  nack(): void {
    this.nacked = true;
  }
}

function setup(waitMs = 1_000) {
  let now = 0;
  const released: string[] = [];
  const gate = new OrderingGate<FakeEvent>((event) => released.push(event.id), waitMs, () => now);
  const admit = (id: string, key = 'k') => {
    const event = new FakeEvent(id, key);
    gate.admit(event, key);
    return event;
  };
  return { gate, released, admit, advance: (ms: number) => (now += ms) };
}

describe('pubsub ordering gate', () => {
  it('releases one event per key at a time, the next when the previous is acked', () => {
    const { gate, released, admit } = setup();
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
    const { gate, released, admit } = setup();
    const a1 = admit('a1');
    const a2 = admit('a2');
    gate.settled(a1, 'k', false);
    expect(a2.nacked).toBe(true);
    const late = admit('a3'); // an older copy still on its way
    expect(released).toEqual(['a1']);
    const again = admit('a1');
    expect(late.nacked).toBe(true);
    expect(released).toEqual(['a1', 'a1']);
    gate.settled(again, 'k', true);
    admit('a2');
    expect(released).toEqual(['a1', 'a1', 'a2']);
  });

  it('gives up waiting for a redelivery after waitMs and lets held events through in order', () => {
    const { gate, released, admit, advance } = setup(1_000);
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
    const { gate, released, admit } = setup();
    admit('a1');
    const a2 = admit('a2');
    gate.settled(a2, 'k', true);
    expect(released).toEqual(['a1']);
  });
});
