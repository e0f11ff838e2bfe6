// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with ${VAR} references on purpose
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

// Where a config's values come from (file, SLUICE_* variables, --set, ${VAR}) and how its
// problems are reported: all at once, each with the key and the place to fix it.

async function yamlFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-config-')), 'sluice.yaml');
  await writeFile(path, text);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).message;
}

describe('config problems', () => {
  it('reports every problem of a file at once, each with its key and line', async () => {
    const file = await yamlFile(
      'queue:\n  maxEvents: 0\n  policy: fast\npool:\n  sise: 4\nbroker:\n  type: memory\n  memory:\n    partitions: four\n',
    );
    const message = await failure(loadConfig(file, {}));
    expect(message.split('\n')).toEqual([
      '4 config problems:',
      `  config queue.maxEvents: Too small: expected number to be >=1 (at ${file}:2)`,
      `  config queue.policy: Invalid option: expected one of "block"|"drop-newest"|"drop-oldest" (at ${file}:3)`,
      `  config pool.sise: unknown key: did you mean size? (at ${file}:5)`,
      `  config broker.memory.partitions: Invalid input: expected number, received string (at ${file}:9)`,
    ]);
  });

  it('reports a missing broker key at its section line', async () => {
    const file = await yamlFile('queue:\n  maxEvents: 10\nbroker:\n  type: memory\n  memory:\n    load:\n      rate: -1\n');
    expect(await failure(loadConfig(file, {}))).toMatch(new RegExp(`config broker\\.memory\\.load\\.rate: .* \\(at ${file}:7\\)$`));
  });

  it('names the environment variable a wrong value came from, beside the key', async () => {
    const file = await yamlFile('queue:\n  maxEvents: 10\n');
    const message = await failure(loadConfig(file, { SLUICE_QUEUE__MAX_EVENTS: 'lots' }));
    expect(message).toBe('config queue.maxEvents: Invalid input: expected number, received string (from SLUICE_QUEUE__MAX_EVENTS)');
    expect(message).not.toMatch(/lots/); // values are not echoed: a variable may hold a secret
  });

  it.each([
    ['empty', '', /sluice\.yaml is empty/],
    ['comments only', '# nothing yet\n', /sluice\.yaml is empty/],
    ['a list', '- queue\n- pool\n', /sluice\.yaml: the top level must be a mapping of sections .*, found a list/],
    ['a scalar', 'memory\n', /sluice\.yaml: the top level must be a mapping of sections .*, found a scalar \("memory"\)/],
  ])('refuses a file that is %s, naming it', async (_, text, expected) => {
    expect(await failure(loadConfig(await yamlFile(text), {}))).toMatch(expected);
  });
});

describe('SLUICE_* environment variables', () => {
  it('refuses a config look-alike with one underscore, suggesting the variable meant', async () => {
    expect(await failure(loadConfig(undefined, { SLUICE_QUEUE_MAX_EVENTS: '5' }))).toBe(
      'config SLUICE_QUEUE_MAX_EVENTS: not read: config variables separate levels with a double underscore; did you mean SLUICE_QUEUE__MAX_EVENTS?',
    );
    expect(await failure(loadConfig(undefined, { SLUICE_DEAD_LETTER_TYPE: 'file' }))).toMatch(/did you mean SLUICE_DEAD_LETTER__TYPE\?/);
  });

  it('refuses an unknown config variable, suggesting the variable meant', async () => {
    const message = await failure(loadConfig(undefined, { SLUICE_KAFKA__BROKERS: 'h:9092', SLUICE_POOL__SISE: '4' }));
    expect(message).toMatch(/config kafka: unknown key: did you mean SLUICE_BROKER__KAFKA__BROKERS\? \(from SLUICE_KAFKA__BROKERS\)/);
    expect(message).toMatch(/config pool\.sise: unknown key: did you mean SLUICE_POOL__SIZE\? \(from SLUICE_POOL__SISE\)/);
  });

  it("leaves alone every SLUICE_* variable of the project's tools, tests and deployments", async () => {
    // Every SLUICE_ name written anywhere in the repository that is not a config variable must not
    // look like one: a new tool variable named SLUICE_QUEUE_… would break `sluice run` here first.
    const names = execFileSync('git', ['grep', '-ohE', 'SLUICE_[A-Z0-9_]*[A-Z0-9]', '--', '.'], { encoding: 'utf8' })
      .split('\n')
      .filter((name) => name !== '' && !name.includes('__'));
    const env = Object.fromEntries([...new Set(names)].map((name) => [name, 'x']));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['SLUICE_BROKERS', 'SLUICE_KAFKA_BROKERS', 'SLUICE_INSTANCE_ID']));
    // The mistakes this file and the docs show on purpose.
    for (const example of ['SLUICE_QUEUE', 'SLUICE_QUEUE_MAX_EVENTS', 'SLUICE_DEAD_LETTER_TYPE']) delete env[example];
    await expect(loadConfig(undefined, env)).resolves.toBeDefined();
  });
});

describe('${VAR} interpolation in the file', () => {
  it('replaces variables and defaults, typed when unquoted, strings when quoted, $${ escaped', async () => {
    const file = await yamlFile(
      [
        'queue:',
        '  maxEvents: ${MAX}',
        '  policy: ${POLICY:-drop-oldest}',
        'metrics:',
        '  host: "${HOST:-127.0.0.1}"',
        '  port: ${PORT:-0}',
        'handler:',
        '  module: "./handlers/$${NAME}-${EMPTY:-x}.mjs"',
        'deadLetter:',
        '  path: /tmp/${EMPTY}dlq.jsonl',
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file, { MAX: '250', EMPTY: '' });
    expect(config.queue).toMatchObject({ maxEvents: 250, policy: 'drop-oldest' });
    expect(config.metrics).toMatchObject({ host: '127.0.0.1', port: 0 });
    expect(config.handler.module).toBe('./handlers/${NAME}-x.mjs');
    expect(config.deadLetter.path).toBe('/tmp/dlq.jsonl');
  });

  it('refuses an unset variable without a default, naming it, the key and the line, with the other problems', async () => {
    const file = await yamlFile('queue:\n  maxEvents: ${MAX_EVENTS}\npool:\n  size: 0\nhandler:\n  module: "${MODULE"\n');
    expect((await failure(loadConfig(file, {}))).split('\n')).toEqual([
      '3 config problems:',
      `  config queue.maxEvents: environment variable MAX_EVENTS is not set (give a default: \${MAX_EVENTS:-value}) (at ${file}:2)`,
      `  config handler.module: malformed \${MODULE: expected \${VAR} or \${VAR:-default} (write $\${ for a literal \${) (at ${file}:6)`,
      `  config pool.size: Too small: expected number to be >=1 (at ${file}:4)`,
    ]);
  });
});

describe('--set and precedence', () => {
  it('applies defaults < file < environment < --set, values read as YAML scalars', async () => {
    const file = await yamlFile('queue:\n  maxEvents: 10\n  maxBytes: 1000\npool:\n  size: 2\n');
    const config = await loadConfig(
      file,
      { SLUICE_QUEUE__MAX_EVENTS: '20', SLUICE_POOL__SIZE: '3' },
      { set: ['queue.maxEvents=30', 'pool.orderByKey=true', 'handler.module=log'] },
    );
    expect(config.queue).toEqual({ maxEvents: 30, maxBytes: 1000, policy: 'block' });
    expect(config.pool).toMatchObject({ size: 3, orderByKey: true });
    expect(config.handler.module).toBe('log');
  });

  it('reports an unknown or wrong --set like any other key, and a malformed one', async () => {
    const message = await failure(loadConfig(undefined, {}, { set: ['queue.maxEventz=5', 'pool.size=many', 'pool'] }));
    expect(message.split('\n')).toEqual([
      '3 config problems:',
      '  config --set: expected key.path=value (e.g. queue.maxEvents=5000), got "pool"',
      '  config queue.maxEventz: unknown key: did you mean maxEvents? (from --set queue.maxEventz)',
      '  config pool.size: Invalid input: expected number, received string (from --set pool.size)',
    ]);
  });
});

describe('broker sections', () => {
  it('refuses a broker section no adapter owns (a typo would be ignored)', async () => {
    const file = await yamlFile('broker:\n  type: memory\n  kafak:\n    brokers: [h:9092]\n');
    expect(await failure(loadConfig(file, {}))).toBe(`config broker.kafak: unknown key: did you mean kafka? (at ${file}:3)`);
  });
});
