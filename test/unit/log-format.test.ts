// Logs a person and a machine can both read (issue #16): `--log-format json|pretty`, kafkajs'
// retry chatter at debug with one clear Sluice line per failure, and one `broker` key per line.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLogFormat, formatPretty, parseLogFormat } from '../../src/cli/log-format.ts';
import { freePort, spawnSluice } from '../sluice-cli.ts';
import { eventually } from './helpers.ts';

async function configFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-log-')), 'config.yaml');
  await writeFile(path, text);
  return path;
}

describe('pretty log lines', () => {
  it('shows time, level, message and the other fields as key=value, the stack indented below', () => {
    const line = JSON.stringify({
      level: 40,
      time: new Date(2026, 0, 2, 3, 4, 5, 67).getTime(),
      service: 'sluice',
      broker: 'kafka',
      error: 'connect ECONNREFUSED 127.0.0.1:1',
      restart: true,
      stack: 'Error: boom\n    at here',
      msg: 'kafka consumer failed',
    });
    expect(formatPretty(line)).toBe(
      '03:04:05.067 WARN  kafka consumer failed  broker=kafka error="connect ECONNREFUSED 127.0.0.1:1" restart=true\n' +
        '    Error: boom\n        at here\n',
    );
    expect(formatPretty('not json')).toBe('not json\n');
  });

  it('is the default on a terminal, JSON otherwise; other formats are refused naming the flag', () => {
    expect(defaultLogFormat({ isTTY: true })).toBe('pretty');
    expect(defaultLogFormat({ isTTY: false })).toBe('json');
    expect(defaultLogFormat({})).toBe('json');
    expect(parseLogFormat('pretty')).toBe('pretty');
    expect(() => parseLogFormat('yaml')).toThrow(/config --log-format: expected json or pretty, got "yaml"/);
  });
});

describe('sluice run --log-format', () => {
  it('pretty prints readable lines; json (the default off a terminal) prints JSON', async () => {
    const path = await configFile('broker:\n  type: memory\nmetrics:\n  enabled: false\n');
    for (const format of ['pretty', undefined] as const) {
      const { child, output, exited } = spawnSluice(['run', '--quiet', '--config', path, ...(format ? ['--log-format', format] : [])]);
      try {
        if (format === 'pretty') {
          await eventually(() => /^\d\d:\d\d:\d\d\.\d{3} INFO {2}sluice running/m.test(output.stdout), 20_000, 'a pretty line');
          expect(output.stdout).not.toMatch(/"msg":/);
        } else await eventually(() => /^\{.*"msg":"sluice running"/m.test(output.stdout), 20_000, 'a JSON line');
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
  }, 60_000);

  it('refuses an unknown format before starting (exit 2)', async () => {
    const { output, exited } = spawnSluice(['run', '--config', 'config/default.yaml', '--log-format', 'yaml']);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/--log-format: expected json or pretty/);
  });
});

describe('an unreachable Kafka', () => {
  it("logs kafkajs' retries at debug only, with one broker key per line, and fails with one clear line (exit 1)", async () => {
    // Nothing listens on a port just found free: every connection attempt is refused at once.
    const port = await freePort();
    const path = await configFile(
      `broker:\n  type: kafka\n  kafka:\n    brokers: ["127.0.0.1:${port}"]\n    topics: [t1]\n    group: g1\n    retry: { retries: 2 }\nmetrics:\n  enabled: false\nlog:\n  level: debug\n`,
    );
    const { output, exited } = spawnSluice(['run', '--quiet', '--config', path]);
    expect(await exited).toBe(1);
    const lines = output.stdout.split('\n').filter((line) => line.startsWith('{'));
    const kafkajs = lines.filter((line) => line.includes('"kafkajs":'));
    expect(kafkajs.length).toBeGreaterThan(0); // the detail is still there at debug
    for (const line of lines) expect((line.match(/"broker":/g) ?? []).length, line).toBeLessThanOrEqual(1);
    for (const line of kafkajs) expect(line.match(/"broker":"kafka"/g) ?? [], line).toHaveLength(1);
    for (const line of kafkajs) expect((JSON.parse(line) as { level: number }).level, line).toBeLessThan(40);
    expect(kafkajs.some((line) => line.includes(`"address":"127.0.0.1:${port}"`))).toBe(true);
    const clear = output.stderr.split('\n').filter((line) => line.includes('cannot reach'));
    expect(clear).toEqual([
      `sluice: kafka: cannot reach brokers 127.0.0.1:${port} (connect): Connection error: connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
  }, 60_000);
});
