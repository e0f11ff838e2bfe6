// The span export thread lowers its own priority, not the process's: the event loop keeps its own.
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

describe('lowerThreadPriority', () => {
  it('lowers the calling thread only', async () => {
    const before = getPriority(0);
    const url = new URL('../../../src/tracing/thread-priority.ts', import.meta.url).href;
    // A worker as the export thread is one (tsx registered, as export-thread.mjs does for the sources).
    const worker = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); }).then(({ lowerThreadPriority }) => require('node:worker_threads').parentPort.postMessage(lowerThreadPriority(10) ?? null));`,
      { eval: true },
    );
    const nice = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(nice).toBe(Math.min(19, before + 10));
    expect(getPriority(0)).toBe(before);
  });
});
