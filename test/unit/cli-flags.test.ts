// The CLI accepts what people type (issue #16): durations and sizes with units wherever a flag
// takes one, flags checked before any work starts, --version / -V, bench-core --no-overload.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFaultFlags } from '../../src/faults/cli-faults.ts';
import { parseDuration, parseSize } from '../../src/cli/units.ts';
import { spawnSluice } from '../sluice-cli.ts';

describe('durations and sizes on the command line', () => {
  it('reads a duration with a unit, and a bare number in the unit the flag always had', () => {
    expect(parseDuration('10s', '--duration', 's')).toBe(10);
    expect(parseDuration('500ms', '--duration', 's')).toBe(0.5);
    expect(parseDuration('5m', '--duration', 's')).toBe(300);
    expect(parseDuration('1h', '--duration', 's')).toBe(3600);
    expect(parseDuration('60', '--duration', 's')).toBe(60);
    expect(parseDuration('100', '--slo-p99', 'ms')).toBe(100);
    expect(parseDuration('1.5s', '--slo-p99', 'ms')).toBe(1500);
    expect(parseDuration('2S', '--slo-p99', 'ms')).toBe(2000);
  });

  it('refuses a bad duration naming the flag and the accepted forms', () => {
    for (const bad of ['ten', '10 sec', '-5s', '', '5d', '1e3'])
      expect(() => parseDuration(bad, '--duration', 's')).toThrow(
        /config --duration: expected a duration such as 500ms, 10s, 5m, 1h \(a bare number is seconds\), got/,
      );
    expect(() => parseDuration('soon', '--slo-p99', 'ms')).toThrow(/--slo-p99: .*a bare number is milliseconds/);
  });

  it('reads sizes: KB, MB, GB decimal; KiB, MiB, GiB binary; a bare number is bytes', () => {
    expect(parseSize('512', '--message-size')).toBe(512);
    expect(parseSize('512B', '--message-size')).toBe(512);
    expect(parseSize('1KB', '--message-size')).toBe(1000);
    expect(parseSize('1KiB', '--message-size')).toBe(1024);
    expect(parseSize('1kib', '--message-size')).toBe(1024);
    expect(parseSize('64MB', '--message-size')).toBe(64_000_000);
    expect(parseSize('1MiB', '--message-size')).toBe(1_048_576);
    expect(parseSize('1.5KiB', '--message-size')).toBe(1536);
    expect(parseSize('2GiB', '--message-size')).toBe(2 * 2 ** 30);
  });

  it('refuses a bad size naming the flag and the accepted forms', () => {
    for (const bad of ['big', '1 KiBs', '-1', '1KIBB', '1TB'])
      expect(() => parseSize(bad, '--message-size')).toThrow(
        /config --message-size: expected a size such as 512 \(bytes\), 1KB \(1000 B\), 1KiB \(1024 B\)/,
      );
  });

  it('run --fault durations take the same forms (a bare number is ms)', () => {
    expect(parseFaultFlags(['handler-latency=1.5s', 'commit-delay=250'])).toEqual({ handlerLatencyMs: 1500, commitDelayMs: 250 });
    expect(parseFaultFlags(['commit-delay=1m'])).toEqual({ commitDelayMs: 60_000 });
    expect(() => parseFaultFlags(['handler-latency=soon'])).toThrow(/--fault handler-latency=soon: expected a duration such as 500ms/);
  });
});

describe('sluice CLI flags', () => {
  it('-V prints the version and exits 0', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { output, exited } = spawnSluice(['-V']);
    expect(await exited).toBe(0);
    expect(output.stdout.trim()).toBe(version);
  });

  it('bench refuses a bad duration or size before any work, naming the flag and the forms (exit 2)', async () => {
    // Started together (each is a Node start-up), checked one by one.
    const [duration, size, fraction, slo] = [
      ['bench', '--duration', 'ten'],
      ['bench', '--message-size', '1KiBs'],
      ['bench', '--duration', '1500ms'],
      ['tune', '--slo-p99', 'fast'],
    ].map((args) => spawnSluice(args));
    expect(await duration!.exited).toBe(2);
    expect(duration!.output.stderr).toMatch(/--duration: expected a duration such as 500ms, 10s, 5m, 1h/);
    expect(duration!.output.stdout).toBe('');
    expect(await size!.exited).toBe(2);
    expect(size!.output.stderr).toMatch(/--message-size: expected a size such as 512 \(bytes\), 1KB \(1000 B\), 1KiB \(1024 B\)/);
    expect(await fraction!.exited).toBe(2);
    expect(fraction!.output.stderr).toMatch(/--duration: expected whole seconds/);
    expect(await slo!.exited).toBe(2);
    expect(slo!.output.stderr).toMatch(/--slo-p99: expected a duration/);
  });

  it('bench refuses an unknown broker at once, listing the known ones (exit 2, nothing run)', async () => {
    const { output, exited } = spawnSluice(['bench', '--brokers', 'memory,rabbitmq']);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/--brokers: unknown broker rabbitmq .*expected one of memory, kafka, kinesis, pubsub/);
    expect(output.stdout).toBe('');
    const tune = spawnSluice(['tune', '--broker', 'rabbitmq']);
    expect(await tune.exited).toBe(2);
    expect(tune.output.stderr).toMatch(/--broker: unknown broker rabbitmq/);
  });

  it('bench takes units: --duration 1s --message-size 1KiB run as 1 s of 1024-byte events', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'sluice-flags-')), 'bench.json');
    const { output, exited } = spawnSluice([
      'bench',
      '--brokers',
      'memory',
      '--rate',
      '200',
      '--duration',
      '1s',
      '--warmup',
      '0s',
      '--message-size',
      '1KiB',
      '--drain-timeout',
      '5s',
      '--quiet',
      '--out',
      out,
    ]);
    expect(await exited, output.stderr).toBe(0);
    const result = JSON.parse(await readFile(out, 'utf8')) as { runs: { workload: Record<string, unknown>; error?: string }[] };
    expect(result.runs[0]?.error).toBeUndefined();
    expect(result.runs[0]?.workload).toMatchObject({ durationS: 1, warmupS: 0, messageSize: 1024, drainTimeoutS: 5 });
  }, 60_000);

  it('bench-core --no-overload skips the overload phase; --payload takes a size', async () => {
    const { output, exited } = spawnSluice(['bench-core', '--no-overload', '--events', '2000', '--payload', '1KiB']);
    expect(await exited, output.stderr).toBe(0);
    const result = JSON.parse(output.stdout.trim().split('\n').at(-1)!) as { payloadBytes: number; overload?: unknown };
    expect(result.payloadBytes).toBe(1024);
    expect(result.overload).toBeUndefined();
    expect(output.stderr).not.toMatch(/^overload:/m);
  }, 60_000);
});

describe('sluice completion', () => {
  it('prints a bash script that completes commands, subcommands and flags (run in a real bash)', async () => {
    const { output, exited } = spawnSluice(['completion', 'bash']);
    expect(await exited).toBe(0);
    const complete = (words: string[]) => {
      const script = `${output.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sluice; echo "\${COMPREPLY[*]}"`;
      return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim();
    };
    expect(complete(['sluice', 'be'])).toBe('bench-core bench');
    expect(complete(['sluice', 'config', 'ch'])).toBe('check');
    expect(complete(['sluice', 'bench', '--brokers', 'kafka', '--mes'])).toBe('--message-size');
    expect(complete(['sluice', 'bench-core', '--no'])).toBe('--no-overload');
    expect(complete(['sluice', 'run', '--log-format', ''])).toBe('json pretty');
    const zsh = spawnSluice(['completion', 'zsh']);
    expect(await zsh.exited).toBe(0);
    expect(zsh.output.stdout).toMatch(/^autoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = spawnSluice(['completion', 'fish']);
    expect(await fish.exited).toBe(2);
    expect(fish.output.stderr).toMatch(/completion <shell>: expected bash or zsh, got "fish"/);
  });
});
