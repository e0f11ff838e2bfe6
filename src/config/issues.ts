import { ConfigError } from '../errors.ts';

/**
 * Where a config value came from, so that an error can send the user to it: a line of the YAML
 * file, an environment variable, or a `--set` flag. Values are never echoed (an environment
 * variable may hold a password); the variable's name is enough to find it.
 */
export type Origin = { file: string; line?: number } | { env: string } | { set: string };

/** One problem of a config: the dotted key, why, and where the offending value came from. */
export interface ConfigIssue {
  key: string;
  reason: string;
  origin?: Origin;
}

export function describeOrigin(origin: Origin | undefined): string {
  if (!origin) return '';
  if ('env' in origin) return ` (from ${origin.env})`;
  if ('set' in origin) return ` (from --set ${origin.set})`;
  return origin.line === undefined ? ` (in ${origin.file})` : ` (at ${origin.file}:${origin.line})`;
}

export function formatIssue(issue: ConfigIssue): string {
  return `config ${issue.key}: ${issue.reason}${describeOrigin(issue.origin)}`;
}

/**
 * Every problem of a config at once, so that a user fixes them in one round rather than one run
 * per mistake. It is a ConfigError (exit status 2) whose `key` and `reason` are the first
 * problem's, for callers that look at one; the message lists them all, one per line.
 */
export class ConfigErrors extends ConfigError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    const first = issues[0] ?? { key: '(root)', reason: 'invalid' };
    super(first.key, `${first.reason}${describeOrigin(first.origin)}`);
    if (issues.length > 1) {
      this.message = `${issues.length} config problems:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`;
    }
  }
}

/** Throws the issues, if any, as one ConfigErrors. */
export function throwIssues(issues: readonly ConfigIssue[]): void {
  if (issues.length > 0) throw new ConfigErrors(issues);
}

/** The closest of `candidates` to `name`, if close enough to be a likely typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
