import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Handler } from './handler.ts';

/** Does nothing: the baseline for benchmarks and a pass-through for bridging. */
export const noopHandler: Handler = () => undefined;

/** Logs each event at info level (payload as UTF-8, cut at 256 bytes). */
export const logHandler: Handler = (event, context) => {
  context.logger.info(
    {
      id: event.id,
      key: event.key,
      source: event.source,
      partition: event.position.partition,
      offset: event.position.offset,
      payload: event.payload.subarray(0, 256).toString('utf8'),
    },
    'event',
  );
};

export const builtinHandlers: Readonly<Record<string, Handler>> = { noop: noopHandler, log: logHandler };

/**
 * The file a `handler.module` path names: an absolute path as is, a relative one from the working
 * directory of the process (not from the config file), like every other path of the config
 * (`deadLetter.path`, `audit.file`, TLS files). `sluice run`, `sluice config check` and the worker
 * threads of `pool.mode: threads` (thread-worker.mjs) all resolve it this way.
 */
export function handlerPath(spec: string): string {
  return resolve(spec);
}

/**
 * Resolves `handler.module`: a built-in name (`noop`, `log`) or the path of an ES module (see
 * {@link handlerPath}) whose default export is the handler function. A module that cannot be
 * loaded or exports no default function is a ConfigError naming the key and the resolved path.
 */
export async function loadHandler(spec: string, configKey = 'handler.module'): Promise<Handler> {
  const builtin = builtinHandlers[spec];
  if (builtin) return builtin;
  const path = handlerPath(spec);
  const named = path === spec ? spec : `${spec} (resolved from the working directory to ${path})`;
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ERR_MODULE_NOT_FOUND' && !existsSync(path)
        ? `no such file (built-ins: ${Object.keys(builtinHandlers).join(', ')})`
        : (error as Error).message;
    throw new ConfigError(configKey, `cannot load handler module ${named}: ${reason}`);
  }
  if (typeof module.default !== 'function') {
    throw new ConfigError(configKey, `handler module ${named} must export a default function (event, context)`);
  }
  return module.default as Handler;
}
