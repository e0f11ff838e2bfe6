import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { forwardSchema } from '../bridge/forward-config.ts';
import { tracingSchema } from '../tracing/config.ts';

/**
 * `.meta()` key of a default that depends on the machine (its CPU count): the generated schema
 * and reference give these words instead of the value (json-schema.ts).
 */
export const DEFAULT_TEXT = 'x-default';

/**
 * Sluice's configuration: one schema with defaults and descriptions, validated before anything
 * starts. The broker sections (`broker.memory`, `broker.kafka`, …) are validated by the schema
 * of the adapter that `broker.type` selects (adapters/<type>/config.ts).
 */
const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).default(3).describe('Tries per event, the first included; then the dead-letter destination.'),
    initialBackoffMs: z.number().int().min(0).default(100).describe('Wait before the second try.'),
    maxBackoffMs: z.number().int().min(0).default(10_000).describe('Longest wait between tries.'),
    multiplier: z.number().min(1).default(2).describe('Growth of the wait per try (jittered).'),
  })
  .strict();

const brokerSectionSchema = z.record(z.string(), z.unknown());

export const deadLetterSchema = z
  .object({
    type: z
      .enum(['none', 'broker', 'file'])
      .default('none')
      .describe('none: failed events are nacked (redelivered); broker: a topic/stream of a broker; file: a JSONL file.'),
    destination: z.string().min(1).default('{source}.dlq').describe('Topic / stream for type broker; {source} is the topic read from.'),
    path: z.string().min(1).default('./dead-letters.jsonl').describe('File for type file.'),
    broker: z
      .object({
        type: z
          .string()
          .optional()
          .meta({ [DEFAULT_TEXT]: 'the source broker' })
          .describe('Another broker for dead letters; default: the source broker.'),
      })
      .catchall(brokerSectionSchema)
      .prefault({})
      .describe('For type broker: the broker dead letters are published to, and its section when it is not the source broker.'),
  })
  .strict()
  .describe('Where events go that fail every try, or cannot be decoded.');

export const configSchema = z
  .object({
    broker: z
      .object({
        type: z.string().default('memory').describe('Which adapter runs: memory, kafka, kinesis, pubsub, nats, http.'),
      })
      .catchall(brokerSectionSchema)
      .prefault({})
      .describe('The broker events are read from: `type` selects the adapter, whose section (`broker.<type>`) configures it.'),
    queue: z
      .object({
        maxEvents: z.number().int().min(1).default(10_000).describe('Events waiting for a worker, at most.'),
        maxBytes: z
          .number()
          .int()
          .min(1)
          .default(64 * 1024 * 1024)
          .describe('Payload bytes waiting for a worker, at most.'),
        policy: z
          .enum(['block', 'drop-newest', 'drop-oldest'])
          .default('block')
          .describe('When full: block pauses the source (no loss); the drop policies lose events and count them.'),
      })
      .strict()
      .prefault({})
      .describe('The bounded queue between the source and the workers: its bounds are the backpressure.'),
    pool: z
      .object({
        size: z.number().int().min(1).max(10_000).default(16).describe('Events processed concurrently.'),
        mode: z.enum(['async', 'threads']).default('async').describe('threads runs the handler in worker threads (CPU-bound handlers).'),
        // The default is this machine's CPU count: the generated schema and reference say so in
        // words (json-schema.ts) instead of recording the count of the machine that generated them.
        threads: z
          .number()
          .int()
          .min(1)
          .default(availableParallelism())
          .meta({ [DEFAULT_TEXT]: 'the CPUs available (os.availableParallelism())' })
          .describe('Worker threads for mode threads; default: the CPUs available to the process.'),
        orderByKey: z.boolean().default(false).describe('Events of one key are processed one at a time, in arrival order.'),
      })
      .strict()
      .prefault({})
      .describe('The workers that run the handler.'),
    handler: z
      .object({
        module: z
          .string()
          .min(1)
          .default('noop')
          .describe(
            'noop, log, or the path of an ES module exporting default async (event, context); a relative path is resolved from the working directory (not the config file). Examples: config/handlers/.',
          ),
        timeoutMs: z.number().int().min(0).default(30_000).describe('Per-try limit; 0 for none.'),
        decode: z.enum(['none', 'json']).default('none').describe('json: payloads that are not JSON go to the dead-letter destination.'),
        retry: retrySchema.prefault({}).describe('Tries of an event whose handler failed (retriable errors), with exponential backoff.'),
        forward: forwardSchema.optional().meta({ [DEFAULT_TEXT]: 'off' }),
      })
      .strict()
      .prefault({})
      .describe('The code run for every event.'),
    deadLetter: deadLetterSchema.prefault({}),
    metrics: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /metrics (Prometheus), /healthz and /readyz.'),
        host: z.string().default('0.0.0.0').describe('Address of the metrics and health server.'),
        port: z.number().int().min(0).max(65_535).default(9464).describe('Port of /metrics, /healthz, /readyz.'),
      })
      .strict()
      .prefault({})
      .describe('Prometheus metrics and health endpoints.'),
    shutdown: z
      .object({
        timeoutMs: z.number().int().min(0).default(30_000).describe('How long in-flight events may finish after SIGTERM.'),
      })
      .strict()
      .prefault({})
      .describe('Graceful shutdown on SIGTERM / SIGINT.'),
    readiness: z
      .object({
        stallTimeoutMs: z.number().int().min(1).default(60_000).describe('Not ready when events wait and none completed for this long.'),
      })
      .strict()
      .prefault({})
      .describe('When /readyz reports not ready.'),
    faults: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Fault injection for staging and drills: the faults below, and PUT /faults on the metrics port to change them at run time.',
          ),
        handlerErrorRate: z.number().min(0).max(1).default(0).describe('Share of handler tries that fail (retriable), 0–1.'),
        handlerLatencyMs: z.number().int().min(0).default(0).describe('Added to every handler try, ms.'),
        handlerStall: z.boolean().default(false).describe('Handler tries wait until the stall is lifted (or time out).'),
        commitDelayMs: z.number().int().min(0).default(0).describe('Acks reach the broker this long after the event finished, ms.'),
      })
      .strict()
      .prefault({})
      .describe('Fault injection (off unless enabled): for staging, drills and tests, never production.')
      .superRefine((faults, ctx) => {
        if (faults.enabled) return;
        for (const key of ['handlerErrorRate', 'handlerLatencyMs', 'handlerStall', 'commitDelayMs'] as const) {
          if (faults[key])
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: 'a fault is set but faults.enabled is false: enable fault injection explicitly',
            });
        }
      }),
    audit: z
      .object({
        file: z
          .string()
          .min(1)
          .optional()
          .meta({ [DEFAULT_TEXT]: 'off' })
          .describe(
            'Ack audit: append every ack/commit/checkpoint and the completions it rests on to this NDJSON file (off when unset); check it with `sluice audit verify FILE`.',
          ),
        flushIntervalMs: z
          .number()
          .int()
          .min(1)
          .default(200)
          .describe('How often buffered audit lines are written (commits are always written ahead).'),
      })
      .strict()
      .prefault({})
      .describe('Ack audit trail (off unless `file` is set).'),
    tracing: tracingSchema,
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Least level of the log lines written.'),
        summaryIntervalMs: z.number().int().min(0).default(10_000).describe('Summary line interval; 0 for none.'),
      })
      .strict()
      .prefault({})
      .describe('Logging.'),
  })
  .strict();

export type SluiceConfig = z.infer<typeof configSchema>;
