// Logs a person and a machine can both read (issue #16): `--log-format json|pretty`, kafkajs'
// retry chatter at debug with one clear Sluice line per failure, and one `broker` key per line.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { kafkaLogCreator } from '../../adapters/kafka/client.ts';
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
    const err = JSON.stringify({
      level: 50,
      time: 0,
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' },
      msg: 'failed',
    });
    expect(formatPretty(err)).toMatch(/ERROR failed {2}err=boom\n {4}Error: boom\n {8}at here\n$/);
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

describe("kafkajs' log lines", () => {
  it('go to debug when they are an attempt kafkajs retries or a failure Sluice reports itself; the rest keep their level', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line)) }).child({ broker: 'kafka' });
    const log = kafkaLogCreator(logger)(logLevel.WARN);
    const entry = (namespace: string, level: logLevel, message: string, extra: Record<string, unknown> = {}) =>
      log({ namespace, level, label: 'ERROR', log: { message, timestamp: 'now', logger: 'kafkajs', ...extra } });
    entry('Connection', logLevel.ERROR, 'Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:1' });
    entry('BrokerPool', logLevel.ERROR, 'Failed to connect to seed broker', { retryCount: 0, retryTime: 300 });
    entry('Producer', logLevel.ERROR, 'Failed to send messages: timeout', { retryCount: 2, retryTime: 900 });
    entry('Consumer', logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED', { groupId: 'g', retryCount: 5 });
    entry('Consumer', logLevel.ERROR, 'Restarting the consumer in 3000ms', { groupId: 'g' });
    entry('Runner', logLevel.WARN, 'The group is rebalancing, re-joining', { groupId: 'g' });
    entry('SASLPlainAuthenticator', logLevel.ERROR, 'SASL PLAIN authentication failed', { broker: '127.0.0.1:9092' });
    entry('Consumer', logLevel.WARN, 'consumer#run was called, but the consumer is already running', { groupId: 'g' });
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [20, 'Connection error: connect ECONNREFUSED'],
      [20, 'Failed to connect to seed broker'],
      [20, 'Failed to send messages: timeout'],
      [20, 'Crash: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED'],
      [20, 'Restarting the consumer in 3000ms'],
      [30, 'The group is rebalancing, re-joining'],
      [50, 'SASL PLAIN authentication failed'],
      [40, 'consumer#run was called, but the consumer is already running'],
    ]);
    expect(lines[0]).toMatchObject({ broker: 'kafka', address: '127.0.0.1:1', kafkajs: 'Connection' });
    expect(lines[6]).toMatchObject({ broker: 'kafka', address: '127.0.0.1:9092' });
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
