// DynamoDB smoke test against dynalite: the operations a Kinesis lease table needs, namely
// create a table, put and read an item, and a conditional update that loses to a newer writer.
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsClientConfig, describeWithBroker, uniqueName } from '../brokers.ts';

describeWithBroker('dynamodb', 'dynamodb (dynalite) smoke', (endpoint) => {
  const client = new DynamoDBClient(awsClientConfig(endpoint));
  const tableName = uniqueName('smoke-leases');

  beforeAll(async () => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
  });

  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    client.destroy();
  });

  it('puts an item and reads it back', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          leaseKey: { S: 'shardId-000000000000' },
          leaseOwner: { S: 'worker-a' },
          leaseCounter: { N: '1' },
          checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
        },
        ConditionExpression: 'attribute_not_exists(leaseKey)',
      }),
    );
    const got = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: 'shardId-000000000000' } }, ConsistentRead: true }),
    );
    expect(got.Item).toEqual({
      leaseKey: { S: 'shardId-000000000000' },
      leaseOwner: { S: 'worker-a' },
      leaseCounter: { N: '1' },
      checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
    });
  });

  it('rejects a conditional update based on a stale lease counter', async () => {
    const key = { leaseKey: { S: 'shardId-000000000001' } };
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { ...key, leaseOwner: { S: 'worker-a' }, leaseCounter: { N: '1' } } }),
    );
    const take = (owner: string, expected: string) =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET leaseOwner = :owner, leaseCounter = leaseCounter + :one',
          ConditionExpression: 'leaseCounter = :expected',
          ExpressionAttributeValues: { ':owner': { S: owner }, ':one': { N: '1' }, ':expected': { N: expected } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    const won = await take('worker-b', '1');
    expect(won.Attributes?.leaseOwner).toEqual({ S: 'worker-b' });
    expect(won.Attributes?.leaseCounter).toEqual({ N: '2' });
    await expect(take('worker-c', '1')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});
