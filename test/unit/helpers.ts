import pino from 'pino';
import type { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { MemorySource } from '../../adapters/memory/memory-source.ts';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { OutgoingEvent } from '../../src/broker/contract.ts';
import type { DeadLetterSink } from '../../src/dead-letter/dead-letter.ts';
import { Pipeline, type PipelineOptions } from '../../src/core/pipeline.ts';
import type { Handler } from '../../src/handler/handler.ts';

export const silent = pino({ level: 'silent' });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function eventually(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function numbered(count: number, keys = 10, from = 0): OutgoingEvent[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % keys}`, payload: Buffer.from(String(from + i)) }));
}

export const seqOf = (payload: Buffer) => Number(payload.toString());

export function memoryPipeline(
  broker: MemoryBroker,
  handler: Handler,
  options: Partial<PipelineOptions> & { topic?: string; group?: string; deadLetter?: DeadLetterSink; audit?: AckAudit } = {},
) {
  const source = new MemorySource(
    broker,
    {
      topic: options.topic ?? 'events',
      partitions: 4,
      group: options.group ?? 'g',
      startFrom: 'earliest',
      nackDelayMs: 5,
      commitIntervalMs: 10,
    },
    options.audit,
  );
  const pipeline = new Pipeline(
    {
      broker: 'memory',
      queue: options.queue ?? { maxEvents: 100, maxBytes: 1 << 20, policy: 'block' },
      pool: options.pool ?? { size: 4, orderByKey: false },
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
      stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
    },
    { source, handler, logger: silent, deadLetter: options.deadLetter, audit: options.audit },
  );
  return { pipeline, source };
}
