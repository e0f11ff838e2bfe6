import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkConfig } from '../../src/cli/config-check.ts';
import { type ConfigIssue, ConfigErrors } from '../../src/config/issues.ts';
import { spawnSluice } from '../sluice-cli.ts';

/** Every YAML file under config/, however deep: a shipped example that breaks fails here. */
async function shippedConfigs(dir = 'config'): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await shippedConfigs(path)));
    else if (/\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files.sort();
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-check-'));
}

async function yaml(text: string, dir?: string): Promise<string> {
  const path = join(dir ?? (await tempDir()), 'sluice.yaml');
  await writeFile(path, text);
  return path;
}

/** Runs `config check` in process; its problems (exit status 2 from the CLI), or [] when it passed. */
async function problems(path: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    expect(await checkConfig(path, {}, () => undefined, env)).toBe(0);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    return [...error.issues];
  }
}

describe('sluice config check: what run needs short of connecting', () => {
  it('passes every YAML file shipped under config/ (examples, local profiles) with handlers that exist', async () => {
    const files = await shippedConfigs();
    expect(files).toEqual(expect.arrayContaining(['config/default.yaml', 'config/kafka.example.yaml', 'config/local/kafka.yaml']));
    for (const file of files) {
      const lines: string[] = [];
      // No AWS_REGION, credentials or emulator variables: an example must stand on its own.
      expect(await checkConfig(file, {}, (line) => lines.push(line), {}), file).toBe(0);
      expect(lines.join('\n'), file).toMatch(/is valid: broker \w+/);
    }
  });

  it('fails on a handler module that does not exist, naming the key, the file and line, and the resolved path', async () => {
    const path = await yaml('broker:\n  type: memory\nhandler:\n  module: ./no-such-handler.mjs\n');
    const [issue, ...more] = await problems(path);
    expect(more).toEqual([]);
    expect(issue!.key).toBe('handler.module');
    expect(issue!.origin).toEqual({ file: path, line: 4 });
    expect(issue!.reason).toContain(`resolved from the working directory to ${resolve('no-such-handler.mjs')}`);
    expect(issue!.reason).toContain('no such file');
  });

  it('reports a handler that does not load together with the schema problems of the same file', async () => {
    const path = await yaml('queue:\n  maxEvents: 0\nhandler:\n  module: ./missing.mjs\n');
    const issues = await problems(path);
    expect(issues.map((issue) => [issue.key, issue.origin])).toEqual([
      ['queue.maxEvents', { file: path, line: 2 }],
      ['handler.module', { file: path, line: 4 }],
    ]);
  });

  it('resolves a relative handler path from the working directory, as run does, not from the config file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'here.mjs'), 'export default () => undefined;\n');
    // Next to the config file, but the process runs elsewhere: not found.
    const [issue] = await problems(await yaml('handler:\n  module: ./here.mjs\n', dir));
    expect(issue?.key).toBe('handler.module');
    // An absolute path (or one relative to the working directory) is found.
    expect(await problems(await yaml(`handler:\n  module: ${join(dir, 'here.mjs')}\n`))).toEqual([]);
    expect(await problems(await yaml('handler:\n  module: ./config/handlers/enricher.mjs\n'))).toEqual([]);
  });

  it('fails on a handler module without a default export function, and on one that throws while loading', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'named.mjs'), 'export function handle() {}\n');
    const [named] = await problems(await yaml(`handler:\n  module: ${join(dir, 'named.mjs')}\n`));
    expect(named?.key).toBe('handler.module');
    expect(named?.reason).toMatch(/must export a default function/);
    // The forwarder needs FORWARD_URL at load: found by the check, as by run.
    const [forwarder] = await problems(await yaml('handler:\n  module: ./config/handlers/forwarder.mjs\n'));
    expect(forwarder?.reason).toMatch(/FORWARD_URL is not set/);
    // The location comes from wherever the value came from: here an environment variable.
    const [fromEnv] = await problems(await yaml('queue: { maxEvents: 10 }\n'), { SLUICE_HANDLER__MODULE: './missing.mjs' });
    expect(fromEnv?.origin).toEqual({ env: 'SLUICE_HANDLER__MODULE' });
  });

  it('fails on a Kafka source without topics, as its start would', async () => {
    const path = await yaml('broker:\n  type: kafka\n  kafka:\n    brokers: [127.0.0.1:9092]\n');
    const issues = await problems(path);
    expect(issues).toEqual([
      {
        key: 'broker.kafka.topics',
        reason: 'a Kafka source needs `topics` (a list) or `topicPattern` (a regular expression)',
        origin: { file: path, line: 3 },
      },
    ]);
  });

  it('reports every start-up problem at once: handler, topics, TLS file, secret variable', async () => {
    const path = await yaml(
      [
        'broker:',
        '  type: kafka',
        '  kafka:',
        '    ssl: { ca: /nonexistent/ca.pem }',
        '    sasl: { mechanism: plain, username: u, passwordEnv: NO_SUCH_PASSWORD_VAR }',
        'handler:',
        '  module: ./missing.mjs',
        '',
      ].join('\n'),
    );
    const keys = (await problems(path)).map((issue) => issue.key);
    // connectionOptions stops at its first problem (the CA file), as the adapter's creation does.
    expect(keys.sort()).toEqual(['broker.kafka.ssl.ca', 'broker.kafka.topics', 'handler.module']);
    const cli = spawnSluice(['config', 'check', '--config', path]);
    expect(await cli.exited).toBe(2);
    expect(cli.output.stderr).toMatch(/^sluice: 3 config problems:\n/);
    expect(cli.output.stderr).toContain(`config broker.kafka.ssl.ca: cannot read /nonexistent/ca.pem`);
    expect(cli.output.stderr).toMatch(
      /config handler\.module: cannot load handler module \.\/missing\.mjs \(resolved .*\(at .*sluice\.yaml:7\)/,
    );
  });

  it('fails on static membership with no instance id in the environment, as a platformatic source would at start', async () => {
    const path = await yaml('broker:\n  type: kafka\n  kafka: { topics: [t], client: platformatic, staticMembership: true }\n');
    const [issue, ...more] = await problems(path, {});
    expect(more).toEqual([]);
    expect(issue?.key).toBe('broker.kafka.staticMembership');
    expect(issue?.reason).toMatch(/none of SLUICE_INSTANCE_ID, POD_NAME, HOSTNAME is set/);
    expect(await problems(path, { POD_NAME: 'sluice-0' })).toEqual([]);
  });

  it('checks a separate dead-letter broker for what publishing needs (not topics), under its own keys', async () => {
    const path = await yaml(
      [
        'broker: { type: memory }',
        'deadLetter:',
        '  type: broker',
        '  destination: dead',
        '  broker:',
        '    type: kafka',
        '    kafka: { brokers: [127.0.0.1:9092], sasl: { mechanism: plain, username: u, passwordEnv: NO_SUCH_PASSWORD_VAR } }',
        '',
      ].join('\n'),
    );
    expect(await problems(path)).toEqual([
      {
        key: 'deadLetter.broker.kafka.sasl.passwordEnv',
        reason: 'environment variable NO_SUCH_PASSWORD_VAR is not set',
        origin: { file: path, line: 7 },
      },
    ]);
    expect(await problems(path, { NO_SUCH_PASSWORD_VAR: 'secret' })).toEqual([]);
  });

  it('fails on a Kinesis config with no region anywhere, and on a checkpoint file the source could not use', async () => {
    const dir = await tempDir();
    const checkpoints = join(dir, 'checkpoints.json');
    await writeFile(checkpoints, '{ not json');
    const path = await yaml(`broker:\n  type: kinesis\n  kinesis:\n    stream: s\n    leases: { type: file, path: ${checkpoints} }\n`, dir);
    // The AWS SDK reads its own variables from the process environment.
    vi.stubEnv('AWS_REGION', '');
    const issues = await problems(path, {});
    expect(issues.map((issue) => issue.key).sort()).toEqual(['broker.kinesis.leases.path', 'broker.kinesis.region']);
    expect(issues.find((issue) => issue.key === 'broker.kinesis.leases.path')?.reason).toMatch(/is not valid JSON/);
    // The SDK's own resolution: AWS_REGION is enough, and a file that does not exist yet is fine.
    const fresh = await yaml(
      `broker:\n  type: kinesis\n  kinesis:\n    stream: s\n    leases: { type: file, path: ${join(dir, 'new.json')} }\n`,
    );
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    expect(await problems(fresh, {})).toEqual([]);
    vi.unstubAllEnvs();
  });
});
