import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';
import type { HandlerContext } from '../../src/handler/handler.ts';
import { backoffMs, withRetry } from '../../src/handler/retry.ts';

const policy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 3 };
const context = (): HandlerContext => ({ attempt: 1, broker: 'memory', logger: pino({ level: 'silent' }) });
const event = {} as SourceEvent;

describe('retry', () => {
  it('backs off exponentially, capped, with jitter between half and the whole step', () => {
    expect(backoffMs(policy, 1, () => 0)).toBe(50);
    expect(backoffMs(policy, 1, () => 1)).toBe(100);
    expect(backoffMs(policy, 2, () => 1)).toBe(300);
    expect(backoffMs(policy, 3, () => 0)).toBe(450);
    expect(backoffMs(policy, 4, () => 1)).toBe(1000);
    expect(backoffMs(policy, 10, () => 0.5)).toBe(750);
  });

  it('stops after maxAttempts and rethrows the last error', async () => {
    let calls = 0;
    const handler = withRetry({ ...policy, initialBackoffMs: 1 })(() => {
      calls++;
      throw new Error(`fail ${calls}`);
    });
    const ctx = context();
    await expect(Promise.resolve().then(() => handler(event, ctx))).rejects.toThrow('fail 4');
    expect(calls).toBe(4);
    expect(ctx.attempt).toBe(4);
  });

  it('does not retry an error marked not retriable', async () => {
    let calls = 0;
    const handler = withRetry({ ...policy, initialBackoffMs: 1 })(async () => {
      calls++;
      throw new SluiceError('poison', { retriable: false });
    });
    await expect(handler(event, context()) as Promise<unknown>).rejects.toThrow('poison');
    expect(calls).toBe(1);
  });

  it('gives up waiting when the pipeline aborts (shutdown)', async () => {
    const abort = new AbortController();
    const handler = withRetry(
      { ...policy, initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
      abort.signal,
    )(() => {
      throw new Error('down');
    });
    const result = Promise.resolve().then(() => handler(event, context()));
    setTimeout(() => abort.abort(), 10);
    await expect(result).rejects.toThrow('down');
  });
});
