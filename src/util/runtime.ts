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
