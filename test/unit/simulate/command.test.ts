// `sluice simulate` end to end in-process: the table, the JSON, the HTML page, the sweep's
// recommendation, and a bad flag failing with exit status 2 before anything runs.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

describe('sluice simulate', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the table and verdict, writes JSON and an HTML page from a config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-simulate-'));
    const config = join(dir, 'sluice.yaml');
    await writeFile(config, 'broker:\n  type: memory\nqueue:\n  maxEvents: 1000\npool:\n  size: 8\n');
    const io = capture();
    const code = await main([
      'simulate',
      '-c',
      config,
      '--set',
      'pool.size=4',
      '--workload',
      'constant:2000/s',
      '--service-time',
      'fixed:1ms',
      '--duration',
      '5s',
      '--out',
      join(dir, 'sim.json'),
      '--report',
      join(dir, 'sim.html'),
    ]);
    expect(code).toBe(0);
    expect(io.out()).toMatch(/broker\s+queue\s+pool\s+offered\/s\s+throughput\/s/);
    expect(io.out()).toMatch(/keeps up: throughput 2,000\/s/);
    const json = JSON.parse(await readFile(join(dir, 'sim.json'), 'utf8'));
    expect(json).toMatchObject({ kind: 'simulate', broker: 'memory', queueSize: 1000, poolSize: 4, sent: 10_000, dropped: 0 });
    expect(json.series).toHaveLength(5);
    const html = await readFile(join(dir, 'sim.html'), 'utf8');
    expect(html).toContain('Queue depth over time');
    expect(html).toContain('data-broker="queue 1000, pool 4"');
  });

  it('--sweep prints the grid, the frontier and the smallest configuration meeting the SLO', async () => {
    const io = capture();
    const code = await main([
      'simulate',
      '--workload',
      'constant:2000/s',
      '--service-time',
      'fixed:2ms',
      '--duration',
      '5s',
      '--sweep',
      '--queue-sizes',
      '100,1000',
      '--pool-sizes',
      '1,4,16',
      '--slo-p99',
      '50ms',
    ]);
    expect(code).toBe(0);
    // Pool 1 serves 500/s of the 2,000/s; pool 4 serves exactly 2,000/s; 16 is the first with room.
    expect(io.out()).toMatch(/◆ recommended/);
    expect(io.out()).toMatch(/queue:\n {2}maxEvents: 100\npool:\n {2}size: (4|16)\n/);
  });

  it('a bad --workload fails with status 2, naming the flag and the forms', async () => {
    const io = capture();
    const code = await main(['simulate', '--workload', 'constant:lots']);
    expect(code).toBe(2);
    expect(io.err()).toMatch(/--workload: expected a rate such as 10000\/s.*accepted forms/);
  });
});

describe('tune --simulate-first', () => {
  it('keeps the configurations the model finds meeting the SLO or on its frontier', async () => {
    const { validateConfig } = await import('../../../src/config/validate.ts');
    const { promisingPairs, serviceOfWork } = await import('../../../src/simulate/simulate-first.ts');
    expect(serviceOfWork('exp:2')).toBe('exp:2ms');
    expect(serviceOfWork('cpu:1')).toBe('fixed:1ms');
    expect(serviceOfWork('none')).toBe('none');
    const { pairs, sweep } = promisingPairs({
      config: await validateConfig({}),
      rate: 2000,
      sloP99Ms: 50,
      queueSizes: [100, 1000],
      poolSizes: [1, 4, 16],
      workload: { durationS: 5, warmupS: 1, messageSize: 1024, keys: 100, partitions: 4, work: 'fixed:2' },
    });
    expect(sweep.points).toHaveLength(6);
    // Pool 1 (500/s) and pool 4 (2,000/s, no headroom) cannot meet it; pool 16 can.
    expect(pairs.has('100x16')).toBe(true);
    expect(pairs.has('100x1') && sweep.points.find((p) => p.poolSize === 1)!.meetsSlo).toBe(false);
    expect(pairs.size).toBeLessThan(6);
  });
});
