import { ConfigError, ConnectionError, errorMessage, NotFoundError } from '../errors.ts';

/**
 * What `sluice config check` asks of an adapter beyond its schema: the two optional hooks of an
 * adapter module (src/composition/adapters.ts, AdapterModule). Both take the validated config section
 * and what the section is used for, so that the CLI stays broker-agnostic:
 *
 * - `preflight(config, use, env)`: what the adapter's start-up requires that the schema cannot
 *   tell, found without connecting (a Kafka source needs topics, a TLS file must be readable, a
 *   secret variable set). Every problem, each as a {@link ConfigError} naming its key. The
 *   adapter's own start code throws the same errors through the same functions, so that check and
 *   run cannot drift apart.
 * - `checkResources(config, use, options)` (`config check --connect`): reaches the broker and
 *   each resource the config names (topics, stream, lease table, subscription, the dead-letter
 *   destination), one {@link ResourceCheck} per thing checked, each bounded by `timeoutMs`.
 */

/** What a broker section is used for: the source Sluice reads, or where dead letters go. */
export type AdapterUse =
  /** `deadLetterTopics`: as in AdapterDeps, so a pattern's check lists the topics the source would read. */
  | { readonly role: 'source'; readonly deadLetterTopics?: (topic: string) => boolean }
  /** `destination` is `deadLetter.destination`; `sources` what `{source}` may stand for. */
  | { readonly role: 'deadLetter'; readonly destination: string; readonly sources: readonly string[] };

/** The outcome of one `--connect` check: one line of output. */
export interface ResourceCheck {
  /** What was checked: `kafka brokers 127.0.0.1:9092`, `topic orders`, `lease table sluice`. */
  readonly what: string;
  readonly ok: boolean;
  /** What was found (`3 partitions`, `ACTIVE, 2 shards`), or why it failed. */
  readonly detail: string;
  /** The check failed because the broker did not answer (not because something is missing or refused). */
  readonly unreachable?: boolean;
  /** For a source's check: the names its events carry as `source` (what `{source}` of a dead-letter destination becomes), set on a failed check too when the name is known. */
  readonly sources?: readonly string[];
}

export interface CheckOptions {
  /** Bound on each check; a broker that does not answer fails the check within it. */
  readonly timeoutMs: number;
}

/** Runs each start-up step and collects the ConfigErrors they throw, rather than stopping at the first. */
export async function collectConfigErrors(steps: readonly (() => unknown)[]): Promise<ConfigError[]> {
  const found: ConfigError[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      found.push(error);
    }
  }
  return found;
}

/** A passing check. */
export const passed = (what: string, detail: string): ResourceCheck => ({ what, ok: true, detail });

/**
 * A failed check; the reason is the error's message (adapters' errors already name the broker).
 * A ConnectionError (or `unreachable`) marks the broker as not answering.
 */
export const failed = (what: string, reason: unknown, unreachable = reason instanceof ConnectionError): ResourceCheck => ({
  what,
  ok: false,
  detail: errorMessage(reason),
  ...(unreachable ? { unreachable } : {}),
});

/**
 * Runs one check within `timeoutMs`: its result, a failure for what it threw, or a failure saying
 * the broker did not answer in time. `abort` is signalled on timeout so a client can give up its
 * request. The timer never holds the process open.
 */
export async function timedCheck(
  what: string,
  timeoutMs: number,
  check: (signal: AbortSignal) => Promise<ResourceCheck>,
): Promise<ResourceCheck> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ResourceCheck>((resolve) => {
    timer = setTimeout(() => {
      abort.abort(new ConnectionError(`no answer within ${timeoutMs} ms`));
      resolve(failed(what, `no answer within ${timeoutMs} ms`, true));
    }, timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([check(abort.signal).catch((error: unknown) => failed(what, error)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The destinations dead letters go to: the template with `{source}` filled in for each source. */
export function deadLetterDestinations(use: AdapterUse): string[] {
  if (use.role !== 'deadLetter') return [];
  if (!use.destination.includes('{source}')) return [use.destination];
  return [...new Set(use.sources.map((source) => use.destination.replaceAll('{source}', source)))];
}

/** Whether an error means "does not exist" (as adapters map their SDK's errors). */
export const isNotFound = (error: unknown): boolean => error instanceof NotFoundError;
