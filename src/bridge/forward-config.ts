import { z } from 'zod';
import { parseTemplate } from './destination-template.ts';

/**
 * `handler.forward`: the built-in bridging handler (src/bridge/forwarder.ts). Declared here, beside
 * the code that reads it, and mounted into the core schema (src/config/schema.ts). The destination
 * broker's own section (`handler.forward.broker.<type>`) is validated by that adapter's schema in
 * src/config/validate.ts, as a dead-letter broker's is.
 */
export const forwardSchema = z
  .object({
    broker: z
      .object({
        type: z.string().min(1).describe('The broker events are published to: memory, kafka, kinesis, pubsub, http.'),
      })
      .catchall(z.record(z.string(), z.unknown()))
      .describe(
        "The destination broker: `type`, and its section (`handler.forward.broker.<type>`, the adapter's schema); without a section, the source's `broker.<type>` when it is the same type.",
      ),
    destination: z
      .string()
      .min(1)
      .superRefine((template, ctx) => {
        try {
          parseTemplate(template);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      })
      .describe(
        'Topic / stream to publish to; {key}, {source} and {header.<name>} are filled in per event (an event without them is dead-lettered).',
      ),
    keyFrom: z
      .string()
      .refine((spec) => spec === 'key' || spec === 'none' || /^header:.+$/.test(spec), 'key, none, or header:<name>')
      .default('key')
      .describe('The key published with each event: the source key, none, or the value of header:<name>.'),
    headers: z
      .enum(['keep', 'drop'])
      .default('keep')
      .describe('keep: the source headers are published with the event (W3C traceparent passes through); drop: none.'),
    unwrapDeadLetters: z
      .boolean()
      .default(false)
      .describe(
        'The source is a dead-letter destination: drop the sluice-* headers the dead-letter writer added, so the original event is republished (sluice replay sets it).',
      ),
    batch: z
      .object({
        maxEvents: z.number().int().min(1).max(10_000).default(500).describe('Events per publish() at most.'),
        lingerMs: z
          .number()
          .int()
          .min(0)
          .default(5)
          .describe('How long a batch waits to fill (it is sent at once when every worker of the pool is waiting on it).'),
      })
      .strict()
      .prefault({})
      .describe('Concurrent handler calls coalesced into one publish per destination.'),
  })
  .strict()
  .describe(
    'Built-in bridging handler (instead of `module`): publishes each event to a destination on any broker; the source event is acked once the destination confirmed it.',
  );

export type ForwardConfig = z.infer<typeof forwardSchema>;
