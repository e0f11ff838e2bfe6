import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../src/errors.ts';
import { awsErrorKind, toSluiceError } from './aws-errors.ts';
import { sleep } from '../../src/util/sleep.ts';
import type { Sendable } from './clients.ts';
import type { Lease, LeaseTable, NewLease } from './lease.ts';

type Item = Record<string, AttributeValue>;

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });

/**
 * The lease table in DynamoDB, with the KCL's item layout (see lease.ts). Ownership writes are
 * conditional: take on the counter last seen, renew on counter and owner, checkpoint and release
 * on owner. A ConditionalCheckFailedException means "someone else changed it" and is returned as
 * undefined / false; every other error is thrown (the coordinator retries on its next tick).
 */
export class DynamoLeaseTable implements LeaseTable {
  constructor(
    private readonly client: Sendable,
    readonly tableName: string,
    private readonly createIfMissing: boolean,
  ) {}

  get description(): string {
    return `DynamoDB table ${this.tableName}`;
  }

  async initialize(signal: AbortSignal): Promise<void> {
    const what = `lease table ${this.tableName}`;
    try {
      let status = await this.status(signal);
      if (status === undefined) {
        if (!this.createIfMissing) throw new NotFoundError(`${what} does not exist (leases.createTable is false)`);
        try {
          await this.client.send(
            new CreateTableCommand({
              TableName: this.tableName,
              KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
              AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
            { abortSignal: signal },
          );
        } catch (error) {
          if (awsErrorKind(error) !== 'in-use') throw error; // another instance is creating it
        }
        status = await this.status(signal);
      }
      while (status !== 'ACTIVE') {
        if (signal.aborted) throw new Error(`still ${status ?? 'missing'}`);
        await sleep(500, signal);
        status = await this.status(signal);
      }
    } catch (error) {
      throw toSluiceError(signal.aborted ? (signal.reason ?? error) : error, what);
    }
  }

  private async status(signal: AbortSignal): Promise<string | undefined> {
    try {
      const result = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }), { abortSignal: signal });
      return result.Table?.TableStatus;
    } catch (error) {
      if (awsErrorKind(error) === 'not-found') return undefined;
      throw error;
    }
  }

  async list(): Promise<Lease[]> {
    const leases: Lease[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of (page.Items ?? []) as Item[]) leases.push(fromItem(item));
      start = page.LastEvaluatedKey as Item | undefined;
    } while (start);
    return leases;
  }

  async create(lease: NewLease, streamName: string): Promise<boolean> {
    const item: Item = {
      leaseKey: s(lease.leaseKey),
      leaseCounter: n(0),
      checkpoint: s(lease.checkpoint),
      checkpointSubSequenceNumber: n(0),
      ownerSwitchesSinceCheckpoint: n(0),
      streamName: s(streamName),
    };
    if (lease.parentShardIds.length > 0) item.parentShardId = { SS: [...lease.parentShardIds] };
    return this.conditional(() =>
      this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(leaseKey)' }),
      ),
    );
  }

  async take(seen: Lease, owner: string): Promise<Lease | undefined> {
    const switching = seen.leaseOwner !== owner;
    return this.update(seen.leaseKey, {
      UpdateExpression:
        'SET leaseOwner = :owner, leaseCounter = :next' +
        (switching ? ', ownerSwitchesSinceCheckpoint = if_not_exists(ownerSwitchesSinceCheckpoint, :zero) + :one' : ''),
      ConditionExpression: 'leaseCounter = :seen',
      ExpressionAttributeValues: {
        ':owner': s(owner),
        ':next': n(seen.leaseCounter + 1),
        ':seen': n(seen.leaseCounter),
        ...(switching ? { ':zero': n(0), ':one': n(1) } : {}),
      },
    });
  }

  async renew(held: Lease, owner: string): Promise<Lease | undefined> {
    return this.update(held.leaseKey, {
      UpdateExpression: 'SET leaseCounter = :next',
      ConditionExpression: 'leaseCounter = :seen AND leaseOwner = :owner',
      ExpressionAttributeValues: { ':owner': s(owner), ':next': n(held.leaseCounter + 1), ':seen': n(held.leaseCounter) },
    });
  }

  async checkpoint(leaseKey: string, owner: string, checkpoint: string, childShardIds?: readonly string[]): Promise<boolean> {
    const children = childShardIds && childShardIds.length > 0;
    const updated = await this.update(leaseKey, {
      UpdateExpression:
        'SET checkpoint = :checkpoint, checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero' +
        (children ? ', childShardId = :children' : ''),
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeValues: {
        ':owner': s(owner),
        ':checkpoint': s(checkpoint),
        ':zero': n(0),
        ...(children ? { ':children': { SS: [...childShardIds] } } : {}),
      },
    });
    return updated !== undefined;
  }

  async release(leaseKey: string, owner: string): Promise<boolean> {
    const updated = await this.update(leaseKey, {
      UpdateExpression: 'REMOVE leaseOwner SET leaseCounter = leaseCounter + :one',
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeValues: { ':owner': s(owner), ':one': n(1) },
    });
    return updated !== undefined;
  }

  async remove(leaseKey: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { leaseKey: s(leaseKey) } }));
  }

  async close(): Promise<void> {}

  private async update(
    leaseKey: string,
    expression: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Item },
  ): Promise<Lease | undefined> {
    let lease: Lease | undefined;
    const won = await this.conditional(async () => {
      const result = await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: { leaseKey: s(leaseKey) }, ReturnValues: 'ALL_NEW', ...expression }),
      );
      lease = fromItem(result.Attributes as Item);
    });
    return won ? lease : undefined;
  }

  /** Runs a conditional write: false if the condition failed, throws on any other error. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (awsErrorKind(error) === 'conditional') return false;
      throw toSluiceError(error, `lease table ${this.tableName}`);
    }
  }
}

function fromItem(item: Item): Lease {
  return {
    leaseKey: item.leaseKey?.S ?? '',
    leaseOwner: item.leaseOwner?.S,
    leaseCounter: Number(item.leaseCounter?.N ?? 0),
    checkpoint: item.checkpoint?.S ?? 'TRIM_HORIZON',
    ownerSwitchesSinceCheckpoint: Number(item.ownerSwitchesSinceCheckpoint?.N ?? 0),
    parentShardIds: item.parentShardId?.SS ?? [],
    childShardIds: item.childShardId?.SS ?? [],
    streamName: item.streamName?.S,
  };
}
