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
 * Resolves `handler.module`: a built-in name (`noop`, `log`) or the path of an ES module (relative
 * to the working directory) whose default export is the handler function.
 */
export async function loadHandler(spec: string, configKey = 'handler.module'): Promise<Handler> {
  const builtin = builtinHandlers[spec];
  if (builtin) return builtin;
  const url = pathToFileURL(resolve(spec)).href;
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(configKey, `cannot load handler module ${spec}: ${(error as Error).message}`);
  }
  if (typeof module.default !== 'function') {
    throw new ConfigError(configKey, `${spec} must export a default function (event, context)`);
  }
  return module.default as Handler;
}
