/**
 * Summarises a V8 .cpuprofile (`node --cpu-prof`): self time by function and by file (packages
 * folded to their name), so two profiles of the same work can be compared line by line.
 *   node dist/src/bench/profile-summary.js run.cpuprofile [--top 30] [--from-ms 3000] [--to-ms 6000]
 * `--from-ms`/`--to-ms` keep only the samples in that window of the profile (ms from its start),
 * e.g. the drain, without start-up and shutdown.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, 'from-ms': { type: 'string' }, 'to-ms': { type: 'string' } },
});

/** `node_modules/kafkajs/src/x.js` → `kafkajs`; our files keep their path from the repository root. */
function fileOf(url: string): string {
  if (!url) return '(native / V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

/** A function's file: inside a package, its path there (`kafkajs/src/protocol/decoder.js`). */
function where(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  return modules >= 0 ? url.slice(modules + 'node_modules/'.length) : fileOf(url);
}

function summarise(path: string): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const from = values['from-ms'] === undefined ? -Infinity : Number(values['from-ms']) * 1000;
  const to = values['to-ms'] === undefined ? Infinity : Number(values['to-ms']) * 1000;
  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  let total = 0;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    const node = byId.get(profile.samples[i]!)!;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') continue;
    const file = fileOf(frame.url);
    const name = `${frame.functionName || '(anonymous)'}  ${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
    selfByFile.set(file, (selfByFile.get(file) ?? 0) + delta);
    total += delta;
  }
  const top = Number(values.top);
  const print = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}\n`);
    }
  };
  process.stdout.write(
    `${path}: ${(total / 1000).toFixed(0)} ms busy (idle excluded) in ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms\n`,
  );
  print('self time by file / package', selfByFile);
  print('self time by function', selfByFunction);
}

for (const path of positionals) summarise(path);
