// Sluice runs two ways: compiled JavaScript from dist/ (the `sluice` bin, `npm start`, the
// image), or its TypeScript sources through tsx (tests, development). Code that starts another
// module in a child process or worker thread asks here which file to start and with what flags,
// so the same call works both ways and production never needs tsx.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when this file runs compiled (`.js` in dist/), false from the `.ts` sources. */
export const compiled = !import.meta.url.endsWith('.ts');

/** The URL of a sibling module, by its source name (`./x.ts`), as it exists at run time. */
export function moduleUrl(sourceName: string, base: string | URL): URL {
  return new URL(compiled ? sourceName.replace(/\.ts$/, '.js') : sourceName, base);
}

/** Node flags a child process needs to run a sibling module: tsx's loader for sources, none compiled. */
export function childExecArgv(): string[] {
  return compiled ? [] : ['--import', import.meta.resolve('tsx')];
}

/**
 * This process's Node flags for a child that must run as it runs (heap sizes, `--cpu-prof`), plus
 * what the child needs to start a sibling module ({@link childExecArgv}) and `extra`, each flag
 * once. A flag and its value (`--import tsx`, `--require ./x.js`) are one unit: a Set of the
 * tokens would drop the second `--import` of two and leave its value to be run as the script.
 * The tsx loader is not added again when this process already imports it under another name.
 */
export function inheritedExecArgv(extra: readonly string[] = [], parent: readonly string[] = process.execArgv): string[] {
  const units = flagUnits(parent);
  const loadsTsx = units.some((unit) => unit.length === 2 && LOADER_FLAGS.has(unit[0]!) && /(^|[\\/])tsx([\\/]|$)/.test(unit[1]!));
  for (const unit of flagUnits([...(loadsTsx ? [] : childExecArgv()), ...extra])) units.push(unit);
  const seen = new Set<string>();
  return units.filter((unit) => !seen.has(unit.join('\0')) && seen.add(unit.join('\0'))).flat();
}

/** Flags that take their value as the next token and load code. */
const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** Node flags as units: a flag alone (`--expose-gc`, `--max-old-space-size=64`), or with the value that follows it. */
function flagUnits(argv: readonly string[]): string[][] {
  const units: string[][] = [];
  for (const token of argv) {
    const last = units[units.length - 1];
    if (!token.startsWith('-') && last !== undefined && last.length === 1 && !last[0]!.includes('=')) last.push(token);
    else units.push([token]);
  }
  return units;
}

/** Sluice's version, from the nearest package.json above this file (src/ or dist/src/ alike). */
export function sluiceVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'sluice' && pkg.version) return pkg.version;
  }
  return '0.0.0-unknown';
}
