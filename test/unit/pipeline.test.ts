import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { wrap } from '../../src/app.ts';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { FileDeadLetter } from '../../src/dead-letter/file-dead-letter.ts';
import type { DeadLetterSink } from '../../src/dead-letter/dead-letter.ts';
import { DecodeError } from '../../src/errors.ts';
import { withJsonDecode } from '../../src/handler/decode.ts';
import { withRetry } from '../../src/handler/retry.ts';
import { withTimeout } from '../../src/handler/timeout.ts';
import { eventually, memoryPipeline, numbered, seqOf, sleep } from './helpers.ts';

describe('pipeline', () => {
  it('loses nothing under backpressure: a producer far faster than the handler is paused, the queue stays bounded', async () => {
    const broker = new MemoryBroker(50); // the broker pauses the producer past 50 records a partition
    const seen = new Map<number, number>();
    let maxDepth = 0;
    let maxBusy = 0;
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        maxDepth = Math.max(maxDepth, pipeline.queue.depth);
        maxBusy = Math.max(maxBusy, pipeline.pool.busy);
        await sleep(0);
        const n = seqOf(event.payload);
        seen.set(n, (seen.get(n) ?? 0) + 1);
      },
      { queue: { maxEvents: 20, maxBytes: 1 << 20, policy: 'block' }, pool: { size: 3, orderByKey: false } },
    );
    await pipeline.start();
    for (let i = 0; i < 20; i++) await broker.publish('events', numbered(100, 10, i * 100));
    await eventually(() => seen.size === 2000, 20_000, 'all 2000 events');
    await pipeline.stop();
    for (let n = 0; n < 2000; n++) expect(seen.has(n)).toBe(true);
    expect(maxDepth).toBeLessThanOrEqual(20);
    expect(maxBusy).toBeLessThanOrEqual(3);
    expect(pipeline.stats.pauses).toBeGreaterThan(0);
    expect(pipeline.stats.processed.success).toBeGreaterThanOrEqual(2000);
    expect(pipeline.stats.processed.dropped).toBe(0);
  });

  it('processes events of one key one at a time in arrival order when orderByKey is on', async () => {
    const broker = new MemoryBroker();
    const order = new Map<string, number[]>();
    const active = new Set<string>();
    let overlaps = 0;
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        if (active.has(event.key!)) overlaps++;
        active.add(event.key!);
        await sleep(Math.random() * 2);
        order.set(event.key!, [...(order.get(event.key!) ?? []), seqOf(event.payload)]);
        active.delete(event.key!);
      },
      { pool: { size: 8, orderByKey: true } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(400, 5));
    await eventually(() => pipeline.stats.completed === 400, 20_000, '400 events');
    await pipeline.stop();
    expect(overlaps).toBe(0);
    for (const [, seqs] of order) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('keeps each key in order through nacks: a failed event is handled before the later events of its key', async () => {
    const broker = new MemoryBroker();
    const handled = new Map<string, number[]>();
    const failures = new Map<number, number>();
    let nacks = 0;
    const { pipeline, source } = memoryPipeline(
      broker,
      async (event) => {
        const n = seqOf(event.payload);
        await sleep(Math.random());
        // Every 7th event fails once, every 31st twice (no retry, no dead letters: nacked).
        const fails = n % 31 === 0 ? 2 : n % 7 === 0 ? 1 : 0;
        if ((failures.get(n) ?? 0) < fails) {
          failures.set(n, (failures.get(n) ?? 0) + 1);
          nacks++;
          throw new Error(`event ${n} fails`);
        }
        handled.set(event.key!, [...(handled.get(event.key!) ?? []), n]);
      },
      // A small queue: events wait in it, set aside for their key and in pending deliveries.
      { queue: { maxEvents: 16, maxBytes: 1 << 20, policy: 'block' }, pool: { size: 4, orderByKey: true } },
    );
    await pipeline.start();
    for (let i = 0; i < 5; i++) await broker.publish('events', numbered(200, 12, i * 200));
    const total = () => [...handled.values()].reduce((sum, list) => sum + list.length, 0);
    await eventually(() => total() >= 1000, 20_000, '1000 events handled');
    // Everything was acked in the end: the group commits every partition to its end.
    await eventually(() => [...source.lag()].every((lag) => lag.events === 0), 20_000, 'every partition committed');
    await pipeline.stop();
    expect(nacks).toBeGreaterThan(100);
    for (const [key, seqs] of handled) expect(seqs, `key ${key}`).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(total()).toBe(1000);
  });

  it('runs different keys concurrently up to pool.size', async () => {
    const broker = new MemoryBroker();
    let busy = 0;
    let peak = 0;
    const { pipeline } = memoryPipeline(
      broker,
      async () => {
        peak = Math.max(peak, ++busy);
        await sleep(5);
        busy--;
      },
      { pool: { size: 6, orderByKey: true } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(120, 12));
    await eventually(() => pipeline.stats.completed === 120, 10_000, '120 events');
    await pipeline.stop();
    expect(peak).toBe(6);
  });

  it('retries with backoff, then dead-letters to a JSONL file with the error, then acks', async () => {
    const broker = new MemoryBroker();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-'));
    const deadLetter = new FileDeadLetter(join(dir, 'dlq.jsonl'));
    const attempts = new Map<number, number>();
    const handler = wrap(
      (event: SourceEvent) => {
        const n = seqOf(event.payload);
        attempts.set(n, (attempts.get(n) ?? 0) + 1);
        if (n === 3) throw new Error('always fails');
        if (n === 5 && attempts.get(n)! < 2) throw new Error('fails once');
      },
      [withRetry({ maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 5, multiplier: 2 })],
    );
    const { pipeline } = memoryPipeline(broker, handler, { deadLetter });
    await pipeline.start();
    await broker.publish('events', numbered(10));
    await eventually(() => pipeline.stats.completed === 10, 10_000, '10 events');
    await pipeline.stop();
    expect(attempts.get(3)).toBe(3);
    expect(attempts.get(5)).toBe(2);
    expect(pipeline.stats.processed).toMatchObject({ success: 8, retried: 1, dead_lettered: 1, failed: 0 });
    const lines = (await readFile(join(dir, 'dlq.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0].payload, 'base64').toString()).toBe('3');
    expect(lines[0].headers).toMatchObject({ 'sluice-error': 'always fails', 'sluice-attempts': '3', 'sluice-source': 'events' });
    // Acked after the dead-letter write: a restarted source does not see it again.
    expect(broker.committed('g', broker.topic('events').partitions[0]!)).toBeDefined();
  });

  it('nacks an event whose dead-letter write fails, and it comes back until the write succeeds', async () => {
    const broker = new MemoryBroker();
    let failWrites = 2;
    const written: string[] = [];
    const deadLetter: DeadLetterSink = {
      description: 'flaky',
      async write(event) {
        if (failWrites-- > 0) throw new Error('dlq down');
        written.push(event.payload.toString());
      },
      async close() {},
    };
    const { pipeline } = memoryPipeline(
      broker,
      () => {
        throw new DecodeError('bad');
      },
      { deadLetter },
    );
    await pipeline.start();
    await broker.publish('events', numbered(1));
    await eventually(() => written.length === 1, 10_000, 'the dead letter');
    await pipeline.stop();
    expect(pipeline.stats.processed.failed).toBe(2);
    expect(pipeline.stats.processed.dead_lettered).toBe(1);
  });

  it('sends a payload that is not JSON straight to the dead letters when decode is json, without retries', async () => {
    const broker = new MemoryBroker();
    const letters: { payload: string; error: unknown; attempts: number }[] = [];
    const values: unknown[] = [];
    const deadLetter: DeadLetterSink = {
      description: 'memory',
      async write(event, error, attempts) {
        letters.push({ payload: event.payload.toString(), error, attempts });
      },
      async close() {},
    };
    const handler = wrap(
      (_event, context) => void values.push(context.value),
      [withJsonDecode(), withRetry({ maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 1, multiplier: 1 })],
    );
    const { pipeline } = memoryPipeline(broker, handler, { deadLetter });
    await pipeline.start();
    await broker.publish('events', [
      { payload: Buffer.from('{"ok":1}') },
      { payload: Buffer.from('{oops') },
      { payload: Buffer.from('[2]') },
    ]);
    await eventually(() => pipeline.stats.completed === 3, 10_000, '3 events');
    await pipeline.stop();
    expect(values).toEqual(expect.arrayContaining([{ ok: 1 }, [2]]));
    expect(letters).toHaveLength(1);
    expect(letters[0]!.payload).toBe('{oops');
    expect(letters[0]!.attempts).toBe(1);
    expect(letters[0]!.error).toBeInstanceOf(DecodeError);
  });

  it('times out a slow try and retries it', async () => {
    const broker = new MemoryBroker();
    let calls = 0;
    const handler = wrap(async () => {
      calls++;
      if (calls === 1) await sleep(1_000);
    }, [withRetry({ maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1, multiplier: 1 }), withTimeout(20)]);
    const { pipeline } = memoryPipeline(broker, handler);
    await pipeline.start();
    await broker.publish('events', numbered(1));
    await eventually(() => pipeline.stats.completed === 1, 10_000, 'the event');
    await pipeline.stop();
    expect(pipeline.stats.processed.retried).toBe(1);
  });

  it('drains queued and in-flight events on graceful shutdown, and commits them', async () => {
    const broker = new MemoryBroker();
    const done: number[] = [];
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        await sleep(2);
        done.push(seqOf(event.payload));
      },
      { queue: { maxEvents: 50, maxBytes: 1 << 20, policy: 'block' }, pool: { size: 2, orderByKey: false } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(100));
    await eventually(() => pipeline.queue.depth > 10, 5_000, 'a queue backlog');
    const received = () => pipeline.stats.received;
    await pipeline.stop();
    expect(done.length).toBe(received());
    // Everything received was committed: a new source of the group starts after it.
    const { pipeline: next } = memoryPipeline(broker, (event) => void done.push(seqOf(event.payload)));
    await next.start();
    await eventually(() => next.stats.completed === 100 - received(), 5_000, 'the rest');
    await next.stop();
    expect(new Set(done).size).toBe(100);
    expect(done.length).toBe(100);
  });

  it('on shutdown timeout nacks what is unfinished, so a restarted source delivers it again', async () => {
    const broker = new MemoryBroker();
    const finished = new Set<number>();
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        const n = seqOf(event.payload);
        if (n === 0) await sleep(60_000); // stuck
        finished.add(n);
      },
      { shutdownTimeoutMs: 100 },
    );
    await pipeline.start();
    await broker.publish('events', numbered(20, 20));
    await eventually(() => finished.size >= 19, 5_000, '19 events');
    await pipeline.stop();
    expect(pipeline.state).toBe('stopped');
    const { pipeline: next } = memoryPipeline(broker, (event) => void finished.add(seqOf(event.payload)));
    await next.start();
    await eventually(() => finished.has(0), 5_000, 'event 0 redelivered');
    await next.stop();
  });

  it('drop-newest loses events deliberately, acks and counts every drop', async () => {
    const broker = new MemoryBroker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { pipeline } = memoryPipeline(broker, () => gate, {
      queue: { maxEvents: 5, maxBytes: 1 << 20, policy: 'drop-newest' },
      pool: { size: 1, orderByKey: false },
    });
    await pipeline.start();
    await broker.publish('events', numbered(50));
    await eventually(() => pipeline.stats.processed.dropped > 0 && pipeline.stats.received === 50, 5_000, 'drops');
    release();
    await eventually(() => pipeline.stats.completed === 50, 5_000, 'all accounted');
    await pipeline.stop();
    expect(pipeline.stats.processed.dropped + pipeline.stats.processed.success).toBe(50);
    expect(pipeline.stats.processed.dropped).toBeGreaterThan(0);
  });

  it('is ready while running and reports a stall when events wait and none completes', async () => {
    const broker = new MemoryBroker();
    const { pipeline } = memoryPipeline(broker, () => new Promise(() => undefined), {
      stallTimeoutMs: 50,
      shutdownTimeoutMs: 50,
      pool: { size: 1, orderByKey: false },
    });
    expect(pipeline.health().ready).toBe(false);
    await pipeline.start();
    expect(pipeline.health().ready).toBe(true);
    await broker.publish('events', numbered(5));
    await eventually(() => pipeline.queue.depth > 0, 5_000, 'a waiting event');
    pipeline.health();
    await sleep(100);
    const health = pipeline.health();
    expect(health.ready).toBe(false);
    expect(health.detail).toMatch(/stalled/);
    await pipeline.stop();
    expect(pipeline.health().live).toBe(false);
  });
});

describe('pipeline timing', () => {
  // Events a worker runs back to back synchronously share a clock read (one per event, not two):
  // each event's duration must still be its own, not smeared over its neighbours.
  it('measures each synchronous event on its own when a worker runs them back to back', async () => {
    const broker = new MemoryBroker();
    const { pipeline } = memoryPipeline(
      broker,
      (event) => {
        if (seqOf(event.payload) % 2 === 0) return; // fast
        const until = performance.now() + 60; // slow: 60 ms busy
        while (performance.now() < until);
      },
      { pool: { size: 1, orderByKey: false } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(10, 1));
    await eventually(() => pipeline.stats.completed === 10, 20_000, 'all 10 events');
    await pipeline.stop();
    const histogram = pipeline.stats.processingSeconds;
    const upTo50ms = histogram.buckets.indexOf(0.05);
    let fast = 0;
    for (let i = 0; i <= upTo50ms; i++) fast += histogram.counts[i]!;
    expect(histogram.count).toBe(10);
    expect(fast).toBe(5);
    expect(histogram.sum).toBeGreaterThanOrEqual(5 * 0.06);
  });
});

describe('pipeline sink extras', () => {
  it('discard takes back queued and set-aside events without settling them', async () => {
    const broker = new MemoryBroker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: number[] = [];
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        started.push(seqOf(event.payload));
        await gate;
      },
      { pool: { size: 1, orderByKey: true } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(20, 2));
    await eventually(() => pipeline.stats.received === 20 && started.length === 1, 5_000, 'deliveries');
    const removed = pipeline.sink.discard(() => true);
    expect(removed.length).toBe(19);
    expect(pipeline.queue.depth).toBe(0);
    release();
    await eventually(() => pipeline.pool.busy === 0, 5_000, 'the running event');
    expect(started).toHaveLength(1);
    await pipeline.stop();
  });

  it('a fatal source error stops the pipeline and makes it not live', async () => {
    const { pipeline } = memoryPipeline(new MemoryBroker(), () => undefined);
    const failures: Error[] = [];
    pipeline.onFailure((error) => failures.push(error));
    await pipeline.start();
    pipeline.sink.fatal(new Error('client gave up'));
    await eventually(() => pipeline.state === 'stopped', 5_000, 'the stop');
    expect(failures.map((e) => e.message)).toEqual(['client gave up']);
    expect(pipeline.health()).toMatchObject({ live: false, ready: false });
    expect(pipeline.health().detail).toMatch(/client gave up/);
  });
});
