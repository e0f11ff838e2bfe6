// The engine against closed forms (M/M/1, M/M/c via Erlang C, D/D/1), Little's law, and the
// accounting of the block and drop policies. Fixed seeds and long runs: the tolerances are the
// statistical error of the run, far below what a modelling mistake would move.
import { describe, expect, it } from 'vitest';
import { erlangC, simulate } from './helpers.ts';

const memory = (queue: number, pool: number, policy = 'block', extra: Record<string, unknown> = {}) => ({
  broker: { type: 'memory' },
  queue: { maxEvents: queue, policy },
  pool: { size: pool, ...extra },
  handler: { timeoutMs: 0 },
});

describe('simulate engine: closed forms', () => {
  it('D/D/1: evenly spaced events and a fixed service time never wait', async () => {
    const { result } = await simulate({ config: memory(1000, 1), workload: 'constant:500/s', service: 'fixed:1ms', duration: 20 });
    expect(result.processed).toBe(10_000);
    expect(result.latencyMs.p50).toBeCloseTo(1, 2);
    expect(result.latencyMs.max).toBeCloseTo(1, 6);
    expect(result.verdict.keepsUp).toBe(true);
  });

  it('M/M/1: mean time in system is 1/(μ-λ)', async () => {
    // λ = 500/s, μ = 1000/s: W = 2 ms.
    const { engine } = await simulate({
      config: memory(100_000, 1),
      workload: 'poisson:500/s',
      service: 'exp:1ms',
      duration: 400,
      drain: 30,
      seed: 3,
    });
    expect(engine.latency.mean * 1000).toBeGreaterThan(2 * 0.96);
    expect(engine.latency.mean * 1000).toBeLessThan(2 * 1.04);
  });

  it('M/M/c: mean wait matches Erlang C', async () => {
    // c = 4, λ = 3000/s, μ = 1000/s per worker: a = 3, ρ = 0.75.
    const c = 4;
    const lambda = 3000;
    const mu = 1000;
    const wq = erlangC(c, lambda / mu) / (c * mu - lambda);
    const { engine } = await simulate({
      config: memory(100_000, c),
      workload: `poisson:${lambda}/s`,
      service: 'exp:1ms',
      duration: 100,
      drain: 30,
      seed: 11,
    });
    const wait = engine.latency.mean - 1 / mu;
    expect(wait / wq).toBeGreaterThan(0.95);
    expect(wait / wq).toBeLessThan(1.05);
  });

  it("Little's law: time-average events in the system = throughput × mean latency", async () => {
    const { result, engine } = await simulate({
      config: memory(100_000, 4),
      workload: 'poisson:3000/s',
      service: 'exp:1ms',
      duration: 200,
      seed: 5,
    });
    const points = result.series.filter((p) => p.t > 10 && p.t <= 200);
    const inSystem = points.reduce((sum, p) => sum + p.queueDepth + p.inFlight, 0) / points.length;
    const little = result.throughput * engine.latency.mean;
    expect(inSystem / little).toBeGreaterThan(0.9);
    expect(inSystem / little).toBeLessThan(1.1);
  });

  it('is reproducible: the same seed gives the same figures, another seed others', async () => {
    const options = { config: memory(1000, 4), workload: 'poisson:3000/s', service: 'exp:1ms', duration: 10 };
    const a = await simulate({ ...options, seed: 1 });
    const b = await simulate({ ...options, seed: 1 });
    const c = await simulate({ ...options, seed: 2 });
    expect(b.result.latencyMs).toEqual(a.result.latencyMs);
    expect(b.result.sent).toBe(a.result.sent);
    expect(c.result.latencyMs.p99).not.toBe(a.result.latencyMs.p99);
  });
});

describe('simulate engine: overflow policies', () => {
  // Pool 1 × 1 ms = 1,000 events/s of capacity, offered 10,000/s for 10 s, queue 100.
  const overload = { workload: 'constant:10000/s', service: 'fixed:1ms', duration: 10 };

  it('block never drops: the source pauses and every event is accounted for', async () => {
    const { result, engine } = await simulate({ ...overload, config: memory(100, 1) });
    expect(result.dropped).toBe(0);
    expect(result.sent).toBe(100_000);
    expect(result.sent).toBe(
      result.processed + result.dropped + result.backlogAtEnd + result.heldByWriteLimitAtEnd + result.inProcessAtEnd,
    );
    expect(engine.broker.backlog + engine.inProcess + engine.completed).toBe(result.sent);
    expect(result.peakQueueDepth).toBeLessThanOrEqual(100);
    expect(result.pausedShare).toBeGreaterThan(0.9);
    expect(result.verdict.keepsUp).toBe(false);
    expect(result.verdict.reason).toMatch(/unfinished/);
  });

  for (const policy of ['drop-newest', 'drop-oldest']) {
    it(`${policy} drops what the pool cannot take: sent − capacity × time − what is held`, async () => {
      const { result } = await simulate({ ...overload, config: memory(100, 1, policy) });
      // 10,000 processed in 10 s (one every ms), at most 100 queued + 1 running at the end.
      expect(result.processed).toBeGreaterThanOrEqual(9_999);
      expect(result.processed).toBeLessThanOrEqual(10_001);
      expect(result.sent).toBe(
        result.processed + result.dropped + result.backlogAtEnd + result.heldByWriteLimitAtEnd + result.inProcessAtEnd,
      );
      expect(result.backlogAtEnd).toBe(0);
      expect(Math.abs(result.dropped - (100_000 - 10_000 - 101))).toBeLessThan(100_000 * 0.005);
      expect(result.pausedShare).toBe(0);
      expect(result.verdict.keepsUp).toBe(false);
      expect(result.verdict.reason).toMatch(/dropped/);
    });
  }

  it('drop-oldest keeps the freshest events: latency bounded by the queue, unlike block', async () => {
    const oldest = await simulate({ ...overload, config: memory(100, 1, 'drop-oldest') });
    const block = await simulate({ ...overload, config: memory(100, 1) });
    expect(oldest.result.latencyMs.max).toBeLessThan(120);
    expect(block.result.latencyMs.max).toBeGreaterThan(1000);
  });
});

describe('simulate engine: per-key ordering and retries', () => {
  it('one hot key with orderByKey runs one at a time: throughput is 1 / service time', async () => {
    const { result } = await simulate({
      config: memory(1000, 64, 'block', { orderByKey: true }),
      workload: 'constant:1000/s',
      service: 'fixed:5ms',
      duration: 20,
      keys: 1,
    });
    expect(result.throughput).toBeGreaterThan(200 * 0.98);
    expect(result.throughput).toBeLessThan(200 * 1.02);
    expect(result.verdict.keepsUp).toBe(false);
  });

  it('without orderByKey the same load keeps up', async () => {
    const { result } = await simulate({
      config: memory(1000, 64),
      workload: 'constant:1000/s',
      service: 'fixed:5ms',
      duration: 20,
      keys: 1,
    });
    expect(result.throughput).toBeGreaterThan(990);
    expect(result.verdict.keepsUp).toBe(true);
  });

  it('failures are retried with backoff; the last failure goes to the dead-letter destination', async () => {
    const config = {
      ...memory(10_000, 64),
      deadLetter: { type: 'file' },
      handler: { timeoutMs: 0, retry: { maxAttempts: 2, initialBackoffMs: 10 } },
    };
    const { result } = await simulate({
      config,
      workload: 'constant:1000/s',
      service: 'fixed:1ms',
      duration: 20,
      drain: 5,
      failureRate: 0.1,
    });
    // A try fails with 10 %: 10 % are retried, 1 % fail both tries.
    expect(result.deadLettered / result.sent).toBeGreaterThan(0.007);
    expect(result.deadLettered / result.sent).toBeLessThan(0.013);
    expect(result.retried / result.sent).toBeGreaterThan(0.08);
    expect(result.retried / result.sent).toBeLessThan(0.1);
    // A retried event waits its backoff (5–10 ms) plus a second try.
    expect(result.latencyMs.max).toBeGreaterThan(6);
    expect(result.processed).toBe(result.sent);
  });
});
