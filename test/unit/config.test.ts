import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envOverrides, loadConfig, validateConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

async function yamlFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
  const path = join(dir, 'sluice.yaml');
  await writeFile(path, text);
  return path;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('config', () => {
  it('runs the memory broker with documented defaults when nothing is given', async () => {
    const config = await validateConfig({});
    expect(config.broker.type).toBe('memory');
    expect(config.queue).toEqual({ maxEvents: 10_000, maxBytes: 64 * 1024 * 1024, policy: 'block' });
    expect(config.metrics.port).toBe(9464);
    expect(config.broker.memory).toMatchObject({ topic: 'events', partitions: 4 });
  });

  it('loads config/default.yaml as shipped', async () => {
    const config = await loadConfig('config/default.yaml', {});
    expect(config.broker.type).toBe('memory');
    expect(config.broker.memory).toMatchObject({ load: { enabled: true } });
  });

  it('validates every shipped config (default, examples per broker, local profiles)', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = [
      ...(await readdir('config')).filter((f) => f.endsWith('.yaml')).map((f) => `config/${f}`),
      ...(await readdir('config/local')).map((f) => `config/local/${f}`),
    ];
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const config = await loadConfig(file, {});
      expect(['memory', 'kafka', 'kinesis', 'pubsub', 'nats', 'http'], file).toContain(config.broker.type);
    }
  });

  it('names the key and the reason of a wrong value', async () => {
    const error = await configError(validateConfig({ queue: { maxEvents: -5 } }));
    expect(error.key).toBe('queue.maxEvents');
    expect(error.message).toMatch(/queue\.maxEvents/);
  });

  it('names an unknown key (a typo must not be ignored)', async () => {
    const error = await configError(validateConfig({ pool: { sise: 4 } }));
    expect(error.key).toBe('pool.sise');
    expect(error.reason).toMatch(/unknown key/);
  });

  it('names keys inside the selected broker section', async () => {
    const error = await configError(validateConfig({ broker: { type: 'memory', memory: { partitions: 'four' } } }));
    expect(error.key).toBe('broker.memory.partitions');
  });

  it('rejects an unknown broker type and lists the known ones', async () => {
    const error = await configError(validateConfig({ broker: { type: 'rabbit' } }));
    expect(error.key).toBe('broker.type');
    expect(error.reason).toMatch(/memory/);
  });

  it('says where a YAML file is broken', async () => {
    const error = await configError(loadConfig(await yamlFile('queue:\n  maxEvents: [1,\n'), {}));
    expect(error.message).toMatch(/not valid YAML/);
  });

  it('overrides any key from SLUICE_ environment variables, typed', async () => {
    const env = {
      SLUICE_QUEUE__MAX_EVENTS: '5000',
      SLUICE_POOL__ORDER_BY_KEY: 'true',
      SLUICE_BROKER__MEMORY__LOAD__RATE: '250',
      SLUICE_BROKERS: 'kafka', // no `__`: not a config key (used by the local broker scripts)
      OTHER: 'x',
    };
    expect(envOverrides(env)).toEqual({
      queue: { maxEvents: 5000 },
      pool: { orderByKey: true },
      broker: { memory: { load: { rate: 250 } } },
    });
    const config = await loadConfig(await yamlFile('queue:\n  maxEvents: 10\n  policy: drop-oldest\n'), env);
    expect(config.queue).toMatchObject({ maxEvents: 5000, policy: 'drop-oldest' });
    expect(config.pool.orderByKey).toBe(true);
  });

  it('names the environment-provided key when its value is wrong', async () => {
    const error = await configError(loadConfig(undefined, { SLUICE_METRICS__PORT: 'abc' }));
    expect(error.key).toBe('metrics.port');
  });
});
