import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../../src/cli/config-check.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { ConfigErrors } from '../../../src/config/issues.ts';

async function issues(raw: unknown): Promise<Record<string, string>> {
  try {
    await validateConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    return Object.fromEntries(error.issues.map((issue) => [issue.key, issue.reason]));
  }
  return {};
}

describe('handler.forward config', () => {
  it('takes a destination broker of another type with its own section, validated by its adapter', async () => {
    const config = await validateConfig({
      broker: { type: 'memory' },
      handler: {
        forward: {
          broker: { type: 'pubsub', pubsub: { projectId: 'p', endpoint: '127.0.0.1:8085', topic: 't' } },
          destination: 'orders-{key}',
        },
      },
    });
    expect(config.handler.forward).toMatchObject({
      destination: 'orders-{key}',
      keyFrom: 'key',
      headers: 'keep',
      batch: { maxEvents: 500, lingerMs: 5 },
    });
    expect(config.handler.forward!.broker.pubsub).toMatchObject({ topic: 't', subscription: 'sluice' });
  });

  it('uses the source broker when the destination is of its type and has no section', async () => {
    const config = await validateConfig({
      broker: { type: 'memory' },
      handler: { forward: { broker: { type: 'memory' }, destination: 'b' } },
    });
    expect(config.handler.forward!.broker.memory).toBeUndefined();
  });

  it('names the key of every problem', async () => {
    expect(await issues({ handler: { forward: { broker: { type: 'rabbit' }, destination: 'x' } } })).toMatchObject({
      'handler.forward.broker.type': expect.stringContaining('unknown broker "rabbit"'),
    });
    expect(await issues({ handler: { forward: { broker: { type: 'kinesis', kinesis: {} }, destination: 'x' } } })).toHaveProperty([
      'handler.forward.broker.kinesis.stream',
    ]);
    expect(await issues({ handler: { forward: { broker: { type: 'memory', kafka: {} }, destination: 'x' } } })).toHaveProperty([
      'handler.forward.broker.kafka',
    ]);
    expect(await issues({ handler: { forward: { broker: { type: 'memory' }, destination: 'orders-{id}' } } })).toMatchObject({
      'handler.forward.destination': expect.stringContaining('unknown placeholder {id}'),
    });
    expect(await issues({ handler: { forward: { broker: { type: 'memory' }, destination: 'x', keyFrom: 'value' } } })).toMatchObject({
      'handler.forward.keyFrom': expect.stringContaining('header:<name>'),
    });
    expect(await issues({ handler: { forward: { destination: 'x' } } })).toHaveProperty(['handler.forward.broker']);
    expect(await issues({ handler: { module: 'log', forward: { broker: { type: 'memory' }, destination: 'x' } } })).toMatchObject({
      'handler.module': expect.stringContaining('handler.forward'),
    });
    expect(
      await issues({ pool: { mode: 'threads' }, handler: { forward: { broker: { type: 'memory' }, destination: 'x' } } }),
    ).toHaveProperty(['pool.mode']);
    expect(await issues({ handler: { forward: { broker: { type: 'http', http: {} }, destination: 'x' } } })).toMatchObject({
      'handler.forward.broker.http.publishUrl': expect.stringContaining('URL'),
    });
  });

  it("sluice config check runs the destination adapter's preflight, its problems under handler.forward.broker", async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sluice-forward-')), 'sluice.yaml');
    await writeFile(
      path,
      'handler:\n  forward:\n    broker:\n      type: kinesis\n      kinesis: { stream: out }\n    destination: orders\n',
    );
    let found: string[] = [];
    try {
      await checkConfig(path, {}, () => undefined, {});
    } catch (error) {
      if (!(error instanceof ConfigErrors)) throw error;
      found = error.issues.map((issue) => issue.key);
    }
    expect(found).toEqual(['handler.forward.broker.kinesis.region']);
    const lines: string[] = [];
    await writeFile(path, 'handler:\n  forward:\n    broker: { type: memory }\n    destination: orders-{key}\n');
    expect(await checkConfig(path, {}, (line) => lines.push(line), {})).toBe(0);
    expect(lines.join('\n')).toContain('handler forward to memory orders-{key}');
  });
});
