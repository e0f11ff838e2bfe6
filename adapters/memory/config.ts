import { z } from 'zod';

/** `broker.memory`: the embedded in-process broker. */
export const memoryConfigSchema = z
  .object({
    topic: z.string().min(1).default('events').describe('Topic the source reads (created on first use).'),
    partitions: z.number().int().min(1).max(1024).default(4).describe('Partitions of a topic created on first use.'),
    group: z.string().min(1).default('sluice').describe('Consumer group whose committed offsets survive a restart of the source.'),
    startFrom: z.enum(['earliest', 'latest']).default('earliest').describe('Where a group with no committed offset starts.'),
    maxBacklog: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe('Records a partition keeps beyond what every group committed; a publisher waits (is paused) past it.'),
    nackDelayMs: z.number().int().min(0).default(100).describe('Delay before a nacked event is delivered again.'),
    commitIntervalMs: z.number().int().min(1).default(200).describe('How often acked offsets are committed to the group.'),
    load: z
      .object({
        enabled: z.boolean().default(false).describe('Publish synthetic events into `topic` while running.'),
        rate: z.number().min(0).default(1000).describe('Events per second; 0 means as fast as the broker accepts.'),
        payloadSize: z.number().int().min(1).default(100).describe('Bytes per synthetic payload.'),
        keys: z.number().int().min(0).default(100).describe('Distinct keys (0: no key).'),
        total: z.number().int().min(0).default(0).describe('Stop after this many events (0: never).'),
      })
      .strict()
      .prefault({})
      .describe('Synthetic load generator, so the embedded default runs with no infrastructure.'),
  })
  .strict()
  .describe(
    'The embedded in-process broker (broker.type memory): no infrastructure, not durable; for trying Sluice, tests and benchmarks.',
  );

export type MemoryConfig = z.infer<typeof memoryConfigSchema>;
