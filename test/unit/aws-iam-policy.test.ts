import { readdir, readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * deploy/aws/iam-policy.json is the least privilege the Kinesis adapter needs: every AWS call its
 * code makes is allowed, on the resource that call is authorized against, and nothing more. The
 * calls are read from the adapter's source (`new XCommand(`), so a new call fails this test until
 * the policy allows it. admin.ts is left out: it creates and deletes streams for tests and benchmarks.
 */
const ADAPTER = 'adapters/kinesis';
const NOT_AT_RUNTIME = new Set(['admin.ts']);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** `kinesis:GetRecords`, `dynamodb:Scan`, ...: each command the adapter sends, by its SDK package. */
async function actionsIssued(): Promise<Set<string>> {
  const actions = new Set<string>();
  for (const file of await readdir(ADAPTER)) {
    if (!file.endsWith('.ts') || NOT_AT_RUNTIME.has(file)) continue;
    const source = await readFile(`${ADAPTER}/${file}`, 'utf8');
    const service = new Map<string, string>();
    for (const [, names, sdk] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-(kinesis|dynamodb)'/g)) {
      for (const name of names!.split(',')) service.set(name.replace(/\btype\b/, '').trim(), sdk!);
    }
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      const sdk = service.get(`${command}Command`);
      expect(sdk, `${file}: ${command}Command is not imported from an AWS SDK client`).toBeDefined();
      actions.add(`${sdk}:${command}`);
    }
  }
  return actions;
}

/** The ARNs the profile deploy/aws/values-kinesis.yaml implies. */
async function expectedArns() {
  const values = parse(await readFile('deploy/aws/values-kinesis.yaml', 'utf8'));
  const kinesis = values.config.broker.kinesis;
  const account = /^arn:aws:iam::(\d{12}):role\//.exec(values.serviceAccount.annotations['eks.amazonaws.com/role-arn'])![1];
  const stream = `arn:aws:kinesis:${kinesis.region}:${account}:stream/${kinesis.stream}`;
  const dlq = values.config.deadLetter.destination.replace('{source}', kinesis.stream);
  return {
    stream,
    consumer: `${stream}/consumer/${kinesis.consumer?.efoName ?? kinesis.application}:*`,
    dlq: `arn:aws:kinesis:${kinesis.region}:${account}:stream/${dlq}`,
    table: `arn:aws:dynamodb:${kinesis.region}:${account}:table/${kinesis.leases?.table ?? kinesis.application}`,
  };
}

/** The resource each action is authorized against (the AWS Service Authorization Reference). */
function resourceOf(action: string, arns: Awaited<ReturnType<typeof expectedArns>>): string {
  if (action.startsWith('dynamodb:')) return arns.table;
  if (action === 'kinesis:PutRecords') return arns.dlq; // Sluice writes only dead letters
  if (action === 'kinesis:DescribeStreamConsumer' || action === 'kinesis:SubscribeToShard') return arns.consumer;
  return arns.stream;
}

describe('deploy/aws/iam-policy.json', async () => {
  const policy = JSON.parse(await readFile('deploy/aws/iam-policy.json', 'utf8')) as { Version: string; Statement: Statement[] };
  const arns = await expectedArns();
  const allowed = policy.Statement.flatMap((statement) =>
    list(statement.Action).flatMap((action) => list(statement.Resource).map((resource) => ({ action, resource }))),
  );

  it('allows only, with no wildcard action or resource', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const statement of policy.Statement) expect(statement.Effect).toBe('Allow');
    for (const { action, resource } of allowed) {
      expect(action).not.toContain('*');
      expect(resource).not.toBe('*');
      expect(Object.values(arns)).toContain(resource);
    }
  });

  it("allows every call the adapter's code makes, on its resource", async () => {
    const issued = await actionsIssued();
    // The calls this test is known to find; a missing one means the scan broke, not the policy.
    for (const action of [
      'kinesis:GetRecords',
      'kinesis:ListShards',
      'kinesis:PutRecords',
      'kinesis:SubscribeToShard',
      'dynamodb:UpdateItem',
    ]) {
      expect(issued).toContain(action);
    }
    for (const action of issued) expect(allowed, action).toContainEqual({ action, resource: resourceOf(action, arns) });
  });

  it('allows nothing the adapter does not call, and each action on its one resource only', async () => {
    const issued = await actionsIssued();
    for (const { action, resource } of allowed) {
      expect(issued, `${action} is allowed but never called`).toContain(action);
      expect(resource, action).toBe(resourceOf(action, arns));
    }
  });
});
