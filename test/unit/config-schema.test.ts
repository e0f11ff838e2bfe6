import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adapters } from '../../src/composition/adapters.ts';
import { configJsonSchema, DEFAULT_TEXT, type JsonSchema } from '../../src/config/json-schema.ts';
import { validateConfig } from '../../src/config/load.ts';
import { configReferenceMarkdown } from '../../src/config/reference-md.ts';
import { REFERENCE_FILE, referenceFiles, SCHEMA_FILE } from '../../src/config/write-reference.ts';
import { spawnSluice } from '../sluice-cli.ts';

/** Every key of the schema with its path: properties, object branches of unions, list items. */
function* keys(node: JsonSchema, path: string[] = []): Generator<[string, JsonSchema]> {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    yield [[...path, key].join('.'), child];
    yield* keys(child, [...path, key]);
  }
  for (const branch of node.anyOf ?? []) yield* keys(branch, path);
  if (node.items) yield* keys(node.items, [...path, '[]']);
}

const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

/** The shipped configs: config/*.yaml and the local profiles. */
async function shippedConfigs(): Promise<string[]> {
  return [
    ...(await readdir('config')).filter((f) => f.endsWith('.yaml')).map((f) => `config/${f}`),
    ...(await readdir('config/local')).filter((f) => f.endsWith('.yaml')).map((f) => `config/local/${f}`),
  ];
}

describe('config JSON Schema', () => {
  let schema: JsonSchema;
  beforeAll(async () => {
    schema = await configJsonSchema();
  });

  it('describes every key, core and every adapter section', () => {
    const all = [...keys(schema)];
    expect(all.length).toBeGreaterThan(150);
    const undescribed = all.filter(([, child]) => !child.description?.trim()).map(([path]) => path);
    expect(undescribed, 'keys without .describe() in their zod schema').toEqual([]);
  });

  it('is a draft-07 schema with a title and no $id, for yaml-language-server', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.title).toBe('Sluice configuration');
    expect(schema).not.toHaveProperty('$id');
  });

  it("writes out every adapter's section under broker, and refers deadLetter.broker.<type> to it", () => {
    const broker = schema.properties!.broker!;
    expect(Object.keys(broker.properties!)).toEqual(['type', ...Object.keys(adapters)]);
    expect(broker.properties!.type!.enum).toEqual(Object.keys(adapters));
    expect(broker.additionalProperties).toBe(false);
    expect(broker.properties!.kafka!.properties!.topics!.type).toBe('array');
    expect(broker.properties!.kinesis!.required).toEqual(['stream']);
    expect(broker.properties!.pubsub!.properties!.flowControl!.properties!.inFlight!.default).toBe(64);
    const dlq = schema.properties!.deadLetter!.properties!.broker!;
    expect(dlq.properties!.kafka!.allOf).toEqual([{ $ref: '#/properties/broker/properties/kafka' }]);
  });

  it('gives the defaults the validation applies (core and every adapter)', async () => {
    // The optional handler.forward (off by default) is given its required keys, so its defaults are checked too.
    const defaults = await validateConfig({ handler: { forward: { broker: { type: 'memory' }, destination: 'd' } } });
    const checked: string[] = [];
    for (const [path, child] of keys(schema)) {
      if (!('default' in child) || path.startsWith('broker.')) continue;
      expect(at(defaults, path), path).toEqual(child.default);
      checked.push(path);
    }
    const needs: Record<string, unknown> = { kinesis: { stream: 's' } };
    for (const [type, entry] of Object.entries(adapters)) {
      const section = (await entry.schema()).parse(needs[type] ?? {});
      for (const [path, child] of keys(schema.properties!.broker!.properties![type]!)) {
        if (!('default' in child) || path.includes('[]')) continue;
        // ssl's (Kafka) and tls's (NATS) default is the boolean branch: the object branch's own defaults do not apply.
        if (path.startsWith('ssl.') || path.startsWith('tls.')) continue;
        expect(at(section, path), `broker.${type}.${path}`).toEqual(child.default);
        checked.push(`broker.${type}.${path}`);
      }
    }
    expect(checked).toContain('broker.kafka.brokers');
    expect(checked.length).toBeGreaterThanOrEqual(100);
  });

  it("does not record the generating machine's CPU count as pool.threads' default", () => {
    const threads = schema.properties!.pool!.properties!.threads!;
    expect(threads).not.toHaveProperty('default');
    expect(threads[DEFAULT_TEXT]).toMatch(/CPUs available/);
  });

  it('accepts every shipped config and rejects typos and wrong values, like the validation', async () => {
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    const validate = ajv.compile(schema);
    for (const file of await shippedConfigs()) {
      expect(validate(parse(await readFile(file, 'utf8'))), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    const wrong = [
      { broker: { type: 'kafka', kafka: { topic: 'orders' } } },
      { broker: { type: 'rabbitmq' } },
      { broker: { kafak: {} } },
      { queue: { policy: 'drop' } },
      { pool: { size: 0 } },
      { deadLetter: { type: 'broker', broker: { type: 'kinesis', kinesis: { streem: 'x' } } } },
    ];
    for (const config of wrong) {
      expect(validate(config), JSON.stringify(config)).toBe(false);
      await expect(validateConfig(config), JSON.stringify(config)).rejects.toThrow();
    }
  });

  it('is named by every shipped config in its yaml-language-server line, by a relative path', async () => {
    for (const file of await shippedConfigs()) {
      const first = (await readFile(file, 'utf8')).split('\n')[0]!;
      const match = /^# yaml-language-server: \$schema=(\.\.?\/\S+)$/.exec(first);
      expect(match, file).not.toBeNull();
      expect(resolve(dirname(file), match![1]!), file).toBe(resolve(SCHEMA_FILE));
    }
  });
});

describe('config reference', () => {
  it('has a section per top-level key and per broker, and a table per object', async () => {
    const schema = await configJsonSchema();
    const md = configReferenceMarkdown(schema);
    for (const key of Object.keys(schema.properties!)) expect(md).toContain(`\n## ${key}\n`);
    for (const type of Object.keys(adapters)) expect(md).toContain(`\n## broker.${type}\n`);
    expect(md).toContain('\n### broker.kafka.retry\n');
    expect(md).toContain('| `queue.policy` | string | `block` | `block`, `drop-newest`, `drop-oldest` |');
    expect(md).toContain('| `broker.kinesis.stream` | string | **required** |');
    expect(md).toMatch(/\| `pool\.threads` \| integer \| _the CPUs available/);
    expect(md).toContain('same keys as [broker.kafka](#brokerkafka)');
  });

  it('checked-in config/REFERENCE.md and config/sluice.schema.json are what the generator makes now', async () => {
    for (const { path, text } of await referenceFiles()) {
      const current = await readFile(path, 'utf8').catch(() => '');
      if (current !== text) expect.fail(`${path} is out of date: run npm run config:reference`);
    }
    expect((await referenceFiles()).map((file) => file.path)).toEqual([SCHEMA_FILE, REFERENCE_FILE]);
  });
});

describe('sluice config schema', () => {
  it('prints the schema, or writes it with --out', async () => {
    const printed = spawnSluice(['config', 'schema']);
    expect(await printed.exited).toBe(0);
    expect(JSON.parse(printed.output.stdout)).toEqual(await configJsonSchema());
    const out = join(await mkdtemp(join(tmpdir(), 'sluice-schema-')), 'sluice.schema.json');
    const written = spawnSluice(['config', 'schema', '--out', out]);
    expect(await written.exited).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(printed.output.stdout);
    expect(written.output.stderr).toContain(`wrote ${out}`);
  });
});
