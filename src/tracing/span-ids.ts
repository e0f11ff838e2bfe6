import { randomFillSync } from 'node:crypto';

/**
 * Trace and span ids for Sluice's event spans: random bytes as lower-case hex, as W3C Trace
 * Context and OTLP want them. The bytes come from one pooled buffer refilled by the system's
 * CSPRNG 4 KiB at a time, so an id costs a hex slice rather than a syscall or 16 Math.random()
 * calls (what the SDK's RandomIdGenerator does). Never all zeros (an invalid id): a zero id is
 * drawn again.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > POOL_SIZE) {
      randomFillSync(pool);
      used = 0;
    }
    const start = used;
    used += bytes;
    for (let i = start; i < used; i++) if (pool[i] !== 0) return pool.toString('hex', start, used);
  }
}

/** 16 random bytes, 32 hex characters. */
export const newTraceId = (): string => randomHex(16);
/** 8 random bytes, 16 hex characters. */
export const newSpanId = (): string => randomHex(8);
