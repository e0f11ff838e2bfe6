import { describe, expect, it, vi } from 'vitest';
import { Sluice } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import { parseFaultFlags } from '../../src/faults/cli-faults.ts';
import { FaultState, InjectedFault } from '../../src/faults/fault-state.ts';
import { withHandlerFaults } from '../../src/faults/handler-faults.ts';
import type { SourceEvent } from '../../src/broker/contract.ts';
import type { HandlerContext } from '../../src/handler/handler.ts';
import { eventually, silent } from './helpers.ts';

const event = {} as SourceEvent;
const context = { attempt: 1 } as HandlerContext;

describe('fault flags (sluice run --fault)', () => {
  it('parses what people type', () => {
    expect(parseFaultFlags(['handler-error-rate=0.2', 'handler-latency=500ms', 'handler-stall', 'commit-delay=2s'])).toEqual({
      handlerErrorRate: 0.2,
      handlerLatencyMs: 500,
      handlerStall: true,
      commitDelayMs: 2000,
    });
    expect(parseFaultFlags(['handler-latency=1.5s', 'commit-delay=250', 'handler-stall=false'])).toEqual({
      handlerLatencyMs: 1500,
      commitDelayMs: 250,
      handlerStall: false,
    });
  });

  it('names the flag and the value it cannot take', () => {
    expect(() => parseFaultFlags(['handler-error-rate=2'])).toThrow(/--fault handler-error-rate=2: expected a share from 0 to 1/);
    expect(() => parseFaultFlags(['handler-latency=soon'])).toThrow(/--fault handler-latency=soon: expected a duration/);
    expect(() => parseFaultFlags(['disk-full'])).toThrow(/unknown fault "disk-full" \(known: handler-error-rate/);
  });
});

describe('fault state', () => {
  it('refuses a bad change whole and says which field', () => {
    const state = new FaultState(silent);
    expect(() => state.set({ handlerErrorRate: 0.5, handlerLatencyMs: -1 })).toThrow(/handlerLatencyMs: expected a number ≥ 0/);
    expect(() => state.set({ nope: 1 } as never)).toThrow(/nope: unknown fault/);
    expect(state.active()).toEqual([]);
    state.set({ handlerErrorRate: 0.5 });
    expect(state.active()).toEqual(['handlerErrorRate']);
    state.clear();
    expect(state.active()).toEqual([]);
  });

  it('logs every change loudly', () => {
    const warn = vi.fn();
    const state = new FaultState({ warn } as never, { commitDelayMs: 100 });
    state.clear();
    expect(warn.mock.calls.map((call) => call.at(-1))).toEqual(['FAULT INJECTION ON: commitDelayMs', 'fault injection: all faults off']);
  });
});

describe('handler faults', () => {
  it('with no fault on, passes the handler through untouched (a synchronous result stays synchronous)', () => {
    const state = new FaultState(silent);
    expect(withHandlerFaults(state)(() => 'done')(event, context)).toBe('done');
  });

  it('fails the share of tries set by handlerErrorRate with a retriable error', async () => {
    const state = new FaultState(silent, { handlerErrorRate: 0.25 });
    const randoms = [0.1, 0.3, 0.2, 0.9];
    const handler = withHandlerFaults(state, undefined, () => randoms.shift()!)(() => 'ok');
    const results = await Promise.allSettled(randoms.slice().map(() => handler(event, context)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[0] as PromiseRejectedResult).reason as InjectedFault;
    expect(reason).toBeInstanceOf(InjectedFault);
    expect(reason.retriable).toBe(true);
  });

  it('adds handlerLatencyMs to every try', async () => {
    vi.useFakeTimers();
    try {
      const state = new FaultState(silent, { handlerLatencyMs: 500 });
      let done = false;
      const running = Promise.resolve(withHandlerFaults(state)(() => 'ok')(event, context)).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(499);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await running;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds tries while stalled and lets them go when the stall is lifted, or on shutdown', async () => {
    const state = new FaultState(silent, { handlerStall: true });
    const calls: string[] = [];
    const handler = withHandlerFaults(state)(() => calls.push('ran'));
    const first = handler(event, context);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([]);
    state.set({ handlerStall: false });
    await first;
    expect(calls).toEqual(['ran']);

    state.set({ handlerStall: true });
    const abort = new AbortController();
    const second = withHandlerFaults(state, abort.signal)(() => calls.push('ran after shutdown'))(event, context);
    abort.abort();
    await second;
    expect(calls).toEqual(['ran', 'ran after shutdown']);
  });
});

describe('fault injection in a running Sluice (memory broker)', () => {
  it('is refused in config unless enabled, naming the key', async () => {
    await expect(validateConfig({ faults: { handlerErrorRate: 0.2 } })).rejects.toThrow(/faults\.handlerErrorRate/);
  });

  it('is absent by default: no /faults, no sluice_faults_active', async () => {
    const sluice = await Sluice.create(await validateConfig({ metrics: { port: 0, host: '127.0.0.1' } }), silent);
    await sluice.start();
    try {
      const port = sluice.metricsPort!;
      expect((await fetch(`http://127.0.0.1:${port}/faults`)).status).toBe(404);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).not.toContain('sluice_faults_active');
    } finally {
      await sluice.stop();
    }
  });

  it('injects handler errors and slow commits at run time through /faults, and recovers when they are lifted', async () => {
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: `faults-${Date.now()}`, load: { enabled: true, rate: 2000, payloadSize: 50, keys: 10 } } },
      handler: { retry: { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 5 } },
      metrics: { port: 0, host: '127.0.0.1' },
      faults: { enabled: true },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    const base = `http://127.0.0.1:${sluice.metricsPort}`;
    const put = (body: string) => fetch(`${base}/faults`, { method: 'PUT', body });
    const { stats } = sluice.pipeline;
    try {
      await eventually(() => stats.completed > 200, 10_000, 'events processed before any fault');
      expect(stats.processed.retried).toBe(0);

      expect((await put('{"handlerErrorRate":0.5}')).status).toBe(200);
      await eventually(() => stats.processed.retried > 50, 10_000, 'retried events under a 50% error rate');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^sluice_faults_active\{broker="memory",fault="handlerErrorRate"\} 1$/m);
      expect(metrics).toMatch(/^sluice_faults_active\{broker="memory",fault="commitDelayMs"\} 0$/m);

      const bad = await put('{"handlerErrorRate":7}');
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: expect.stringMatching(/handlerErrorRate: expected a share from 0 to 1/) });

      expect((await fetch(`${base}/faults`, { method: 'DELETE' })).status).toBe(200);
      const retriedAtClear = stats.processed.retried;
      const completedAtClear = stats.completed;
      await eventually(() => stats.completed > completedAtClear + 500, 10_000, 'events processed after the fault was lifted');
      // A try that failed just before the clear may still finish as retried; nothing new fails after it.
      expect(stats.processed.retried - retriedAtClear).toBeLessThan(50);

      // Slow commits: acks trail processing by the delay, so the committed count stalls behind.
      expect((await put('{"commitDelayMs":1500}')).status).toBe(200);
      expect(await (await fetch(`${base}/faults`)).json()).toEqual({
        faults: { handlerErrorRate: 0, handlerLatencyMs: 0, handlerStall: false, commitDelayMs: 1500 },
        active: ['commitDelayMs'],
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const lagged = [...sluice.pipeline.source.lag()].reduce((sum, lag) => sum + lag.events, 0);
      expect(lagged, 'events finished but not yet committed while acks are delayed').toBeGreaterThan(200);
    } finally {
      await sluice.stop();
    }
  });
});
