import { type Document, isScalar, type LineCounter, Scalar } from 'yaml';
import type { ConfigIssue } from './issues.ts';
import { lineOf, walkYaml } from './locate.ts';
import { parseScalar } from './values.ts';

/**
 * `${VAR}` and `${VAR:-default}` in the string values of a config file, replaced from the
 * environment before validation (keys are never interpolated):
 *
 * - `${VAR}`: the variable's value; unset is an error naming the variable, the key and the line
 *   (set but empty is the empty string, as in a shell).
 * - `${VAR:-default}`: the default when the variable is unset or empty.
 * - `$${`: a literal `${`.
 *
 * An unquoted value is read again as a YAML scalar after interpolation, so `port: ${PORT}` is a
 * number and `brokers: ${BROKERS}` with `BROKERS='[a:9092, b:9092]'` a list; a quoted value stays
 * a string. (Inside a flow collection, `[${A}]`, quote it: YAML does not allow `{` there.)
 */
const reference = /\$\$\{|\$\{([^}]*)\}?/g;
const variable = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function interpolate(doc: Document, env: NodeJS.ProcessEnv, file: string, lines: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  walkYaml(doc.contents, (path, node, keyNode) => {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
    const origin = { file, line: lineOf(keyNode ?? node, lines) };
    const key = path.join('.');
    const result = node.value.replace(reference, (match, inner: string | undefined) => {
      if (match === '$${') return '${';
      const parsed = match.endsWith('}') ? variable.exec(inner ?? '') : null;
      if (!parsed) {
        issues.push({ key, reason: `malformed ${match}: expected \${VAR} or \${VAR:-default} (write $\${ for a literal \${)`, origin });
        return match;
      }
      const [, name, fallback] = parsed as unknown as [string, string, string | undefined];
      const value = env[name];
      if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
      if (value === undefined) {
        issues.push({ key, reason: `environment variable ${name} is not set (give a default: \${${name}:-value})`, origin });
        return match;
      }
      return value;
    });
    node.value = node.type === Scalar.PLAIN ? parseScalar(result) : result;
  });
  return issues;
}
