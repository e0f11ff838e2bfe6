import type { ConfigIssue } from './issues.ts';
import { Origins } from './locate.ts';
import { parseScalar, setPath } from './values.ts';

/**
 * `--set key.path=value` flags (run, config check, bench): the last layer, over the file and the
 * environment. The path is written as in YAML (`queue.maxEvents`, `broker.kafka.brokers`); the
 * value is read as a YAML scalar, as environment values are (`--set pool.orderByKey=true`,
 * `--set broker.kafka.topics=[a,b]`). An unknown path is an unknown key, reported like one.
 */
export interface SetLayer {
  values: Record<string, unknown>;
  origins: Origins;
  issues: ConfigIssue[];
}

export function readSets(assignments: readonly string[]): SetLayer {
  const layer: SetLayer = { values: {}, origins: new Origins(), issues: [] };
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    const path = at > 0 ? assignment.slice(0, at).trim().split('.') : [];
    if (path.length === 0 || path.some((part) => part === '')) {
      layer.issues.push({ key: '--set', reason: `expected key.path=value (e.g. queue.maxEvents=5000), got "${assignment}"` });
      continue;
    }
    setPath(layer.values, path, parseScalar(assignment.slice(at + 1)));
    layer.origins.set(path, { set: path.join('.') });
  }
  return layer;
}
