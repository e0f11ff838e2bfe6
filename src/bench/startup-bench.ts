/**
 * `npm run bench:startup`: what it costs to start Sluice, compiled (dist/) against the TypeScript
 * sources through tsx, on the Node running this script and on any other given with `--node`.
 *
 *  - `sluice config check` of config/kafka.example.yaml: wall time to exit and peak RSS (the
 *    kernel's ru_maxrss of the child, via /usr/bin/time).
 *  - `sluice run` of config/default.yaml (memory broker, synthetic load): wall time until the
 *    "sluice running" log line, and resident memory 5 s later (VmRSS from /proc).
 *
 * Variants are interleaved round by round so that a noisy neighbour hurts them alike; the median
 * and the best of `--rounds` are printed, and the ratio compiled / sources of the medians.
 *   npm run bench:startup -- --rounds 7 [--node /usr/bin/node]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { say } from './bench-support.ts';
import { table } from './table.ts';
import { median } from '../util/median.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, node: { type: 'string', multiple: true, default: [] } },
});
const ROUNDS = Number(args.rounds);
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error(`bench:startup needs ${TIME} (Debian package "time") for the peak RSS of a short-lived child`);

interface Variant {
  name: string;
  node: string;
  argv: string[];
}

const nodes = [process.execPath, ...(args.node ?? [])];
const variants: Variant[] = nodes.flatMap((node) => {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  return [
    { name: `compiled, node ${version}`, node, argv: ['dist/src/cli/sluice.js'] },
    { name: `sources via tsx, node ${version}`, node, argv: ['--import', 'tsx', 'src/cli/sluice.ts'] },
  ];
});

/** Wall ms and peak RSS (MB) of `sluice config check`. */
function configCheck(v: Variant): { ms: number; rssMB: number } {
  const started = performance.now();
  const result = spawnSync(TIME, ['-f', 'maxrss=%M', v.node, ...v.argv, 'config', 'check', '--config', 'config/kafka.example.yaml'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`${v.name}: config check failed (${result.status}): ${result.stderr}`);
  const out = result.stderr;
  const ms = performance.now() - started;
  const kb = Number(/maxrss=(\d+)/.exec(out)?.[1]);
  return { ms, rssMB: kb / 1024 };
}

/** Wall ms to "sluice running", and VmRSS (MB) 5 s later, of `sluice run`. */
async function run(v: Variant): Promise<{ ms: number; rssMB: number }> {
  const started = performance.now();
  const child = spawn(v.node, [...v.argv, 'run', '--quiet', '--config', 'config/default.yaml'], {
    env: { ...process.env, SLUICE_METRICS__HOST: '127.0.0.1', SLUICE_METRICS__PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const ms = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('"sluice running"')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`${v.name}: sluice run exited (${code}) before it was running`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { ms, rssMB: rssKb / 1024 };
}

const samples = new Map(
  variants.map((v) => [v.name, { checkMs: [] as number[], checkMB: [] as number[], runMs: [] as number[], runMB: [] as number[] }]),
);

say(
  `bench:startup: ${ROUNDS} rounds of ${variants.length} variants, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  for (const v of variants) {
    const s = samples.get(v.name)!;
    const check = configCheck(v);
    s.checkMs.push(check.ms);
    s.checkMB.push(check.rssMB);
    const r = await run(v);
    s.runMs.push(r.ms);
    s.runMB.push(r.rssMB);
  }
  say(`  round ${round}/${ROUNDS} done`);
}

const rows = variants.map((v) => {
  const s = samples.get(v.name)!;
  return [
    v.name,
    `${Math.round(median(s.checkMs))} (${Math.round(Math.min(...s.checkMs))})`,
    median(s.checkMB).toFixed(0),
    `${Math.round(median(s.runMs))} (${Math.round(Math.min(...s.runMs))})`,
    median(s.runMB).toFixed(0),
  ];
});
say(
  table(['variant', 'config check ms, median (best)', 'check peak RSS MB', 'run: ready ms, median (best)', 'run RSS MB after 5 s'], rows),
);
for (const node of nodes) {
  const [compiled, sources] = variants.filter((v) => v.node === node).map((v) => samples.get(v.name)!);
  say(
    `${node}: compiled / sources, medians: config check ${(median(compiled!.checkMs) / median(sources!.checkMs)).toFixed(2)}x time, ${(median(compiled!.checkMB) / median(sources!.checkMB)).toFixed(2)}x RSS; run ready ${(median(compiled!.runMs) / median(sources!.runMs)).toFixed(2)}x time, ${(median(compiled!.runMB) / median(sources!.runMB)).toFixed(2)}x RSS`,
  );
}
say(
  `load at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
process.stdout.write(`${JSON.stringify(Object.fromEntries(samples))}\n`);
