import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { adapters } from '../composition/adapters.ts';
import { failed, passed, type ResourceCheck } from '../broker/preflight.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { sectionsInUse } from './config-check.ts';

/**
 * `sluice config check --connect`: reaches the broker and each resource the config names through
 * the adapters' own `checkResources` (src/broker/preflight.ts), one line per check as it
 * finishes (`ok` or `FAILED` with the reason), each within `timeoutMs`. The source's checks run
 * first: they tell which names `{source}` of the dead-letter destination stands for. Returns
 * whether every check passed.
 */
export async function checkConnections(config: SluiceConfig, timeoutMs: number, write: (line: string) => void): Promise<boolean> {
  write(`connecting (each check within ${timeoutMs} ms):`);
  let failures = 0;
  let total = 0;
  // A dead-letter destination on the source's own broker repeats its reachability check: once is enough.
  const reported = new Set<string>();
  let unreachable = false;
  const report = (check: ResourceCheck) => {
    if (reported.has(check.what)) return;
    reported.add(check.what);
    if (check.unreachable) unreachable = true;
    total++;
    if (!check.ok) failures++;
    write(`  ${check.ok ? 'ok    ' : 'FAILED'}  ${check.what}: ${check.detail}`);
  };
  const sources = new Set<string>();
  for (const { type, section, use, keyPrefix, forward } of sectionsInUse(config)) {
    // The source's broker does not answer: its dead-letter checks would only say so again.
    if (use.role === 'deadLetter' && keyPrefix === 'broker' && unreachable) continue;
    const module = await adapters[type]!.module();
    if (!module.checkResources) {
      report(passed(`${type} broker`, 'in-process: nothing to reach'));
      if (use.role === 'source') sources.add(sourceName(config));
      continue;
    }
    const resolved = use.role === 'deadLetter' ? { ...use, sources: [...sources] } : use;
    const kind = forward ? 'forward' : 'dead-letter';
    if (use.role === 'deadLetter' && sources.size === 0 && use.destination.includes('{source}')) {
      report(failed(`${kind} destination ${use.destination}`, 'not checked: no source was found to fill in {source}'));
      continue;
    }
    // A forward destination named per event ({key}, {header.…}) is known only when events come.
    if (forward && use.role === 'deadLetter' && /\{(key|header\.[^}]*)\}/.test(use.destination)) {
      report(passed(`forward destination ${use.destination}`, 'not checked: named per event'));
      continue;
    }
    for await (const check of module.checkResources(section as never, resolved, { timeoutMs })) {
      if (!forward) for (const name of check.sources ?? []) sources.add(name);
      // The adapters word a publish destination's check as a dead letter's; a forward's is a forward's.
      report(
        forward
          ? {
              ...check,
              what: check.what.replace(/^dead-letter /, 'forward '),
              detail: check.detail.replaceAll('dead letter', 'forwarded event'),
            }
          : check,
      );
    }
  }
  if (config.deadLetter.type === 'file') report(await checkWritable(config.deadLetter.path));
  write(failures === 0 ? `all ${total} checks passed` : `${failures} of ${total} checks FAILED`);
  return failures === 0;
}

/** The `source` of events of a broker without `checkResources` (memory: its topic). */
function sourceName(config: SluiceConfig): string {
  const section = config.broker[config.broker.type] as { topic?: string } | undefined;
  return section?.topic ?? config.broker.type;
}

/** A dead-letter file can be appended to: it, or the nearest existing directory above it, is writable. */
async function checkWritable(path: string): Promise<ResourceCheck> {
  const what = `dead-letter file ${path}`;
  let target = resolve(path);
  try {
    for (;;) {
      const found = await stat(target).catch(() => undefined);
      if (found) {
        await access(target, constants.W_OK);
        return passed(what, found.isDirectory() ? `writable (created under ${target} on the first dead letter)` : 'writable');
      }
      if (dirname(target) === target) return failed(what, 'no existing directory above it');
      target = dirname(target);
    }
  } catch (error) {
    return failed(what, `not writable: ${(error as Error).message}`);
  }
}
