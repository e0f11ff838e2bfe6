/**
 * The benchmarks' one window onto adapters: through the composition root
 * (src/composition/adapters.ts) and the two contracts, never an adapter's own files. A broker
 * benchmark writes its config section as a user would, gets an adapter for producing backlogs and
 * creating destinations, and measures against the adapter's bare reader (BenchHooks).
 */
import { Registry } from 'prom-client';
import type { BareReadOptions, ToolingAdapter } from '../broker/tooling.ts';
import { benchHooksFor, toolingFor } from '../composition/adapters.ts';
import { benchLogger, EventCounter, type Rate, waitUntil } from './bench-support.ts';

/**
 * `section` (broker.<type> as a user writes it) validated with the adapter's defaults, and an
 * adapter built from it with a registry of its own (its metrics are not the benchmark's).
 */
export async function benchAdapter<Config = Record<string, unknown>>(
  type: string,
  section: unknown,
): Promise<{ config: Config; adapter: ToolingAdapter }> {
  const { config, module } = await toolingFor<Config>(type, section);
  return { config, adapter: module.createAdapter(config as never, { logger: benchLogger(), registry: new Registry() }) };
}

/** A bare reader of `type` started on `section` (validated); see BenchHooks.bareReader. */
export async function startBareReader(type: string, section: unknown, options: BareReadOptions) {
  const hooks = await benchHooksFor(type);
  if (!hooks.bareReader) throw new Error(`bench: broker ${type} has no bare reader`);
  const { config } = await toolingFor(type, section);
  return hooks.bareReader(config as never, options);
}

/**
 * Reads `events` with `type`'s bare reader on `section`, timed from the first event read to the
 * last (so connecting and joining are not counted), then stops it.
 */
export async function bareRate(
  type: string,
  section: unknown,
  events: number,
  options: Omit<BareReadOptions, 'onRead'>,
): Promise<Rate & { description: string }> {
  const counter = new EventCounter(events);
  const reader = await startBareReader(type, section, { ...options, onRead: (count) => counter.add(count) });
  let ended = false;
  reader.ended.then(
    () => (ended = true),
    () => (ended = true),
  );
  try {
    await waitUntil(`the bare ${type} reader to read ${events} events`, () => counter.done || ended, 900_000);
  } finally {
    await reader.stop();
  }
  if (!counter.done) {
    await reader.ended; // it ended by itself: its error, if it failed
    throw new Error(`bench: the bare ${type} reader read ${counter.count} of ${events} events`);
  }
  return { ...counter.rate(), description: reader.description };
}

/**
 * An in-process broker of its own (BenchHooks.isolated), read as `section` (broker.memory as a
 * user writes it) says: the core benchmark and the simulator's overhead measurement.
 */
export async function isolatedMemory(section: Record<string, unknown>): Promise<ToolingAdapter> {
  const hooks = await benchHooksFor('memory');
  if (!hooks.isolated) throw new Error('bench: the memory adapter has no isolated broker');
  const { config } = await toolingFor('memory', section);
  return hooks.isolated(config as never);
}
