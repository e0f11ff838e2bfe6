import { ListShardsCommand, type ListShardsCommandOutput, type Shard } from '@aws-sdk/client-kinesis';
import { awsErrorKind, toSluiceError } from './aws-errors.ts';
import { Backoff, sleep } from '../../src/source-kit/index.ts';
import type { Sendable } from './clients.ts';
import { KinesisMetrics } from './metrics.ts';

export interface ShardInfo {
  readonly shardId: string;
  /** Split: one parent; merge: two; an original shard: none. */
  readonly parentShardIds: readonly string[];
  /** Set once the shard is closed (split or merged away): no record comes after it. */
  readonly closed: boolean;
}

/**
 * Every shard of a stream, open and closed, with its parents: ListShards, paginated (after the
 * first page only NextToken is sent, as the API requires). ListShards is limited to 100 calls
 * per second per account; a throttled page is retried with backoff, up to `signal`.
 */
export async function listShards(
  client: Sendable,
  stream: string,
  options: { signal?: AbortSignal; metrics?: KinesisMetrics } = {},
): Promise<ShardInfo[]> {
  const { signal, metrics = KinesisMetrics.unregistered(stream) } = options;
  const shards: ShardInfo[] = [];
  const backoff = new Backoff(200, 5_000);
  let nextToken: string | undefined;
  do {
    let page: ListShardsCommandOutput;
    for (;;) {
      try {
        page = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: stream }), {
          abortSignal: signal,
        });
        break;
      } catch (error) {
        const kind = awsErrorKind(error);
        if (kind === 'throttled') metrics.throttle('ListShards');
        if ((kind !== 'throttled' && kind !== 'transient') || signal?.aborted || backoff.failures >= 8) {
          throw toSluiceError(error, `kinesis ListShards of ${stream}`);
        }
        await sleep(backoff.next(), signal);
      }
    }
    for (const shard of (page.Shards ?? []) as Shard[]) shards.push(toShardInfo(shard));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

function toShardInfo(shard: Shard): ShardInfo {
  const parents: string[] = [];
  if (shard.ParentShardId) parents.push(shard.ParentShardId);
  if (shard.AdjacentParentShardId) parents.push(shard.AdjacentParentShardId);
  return { shardId: shard.ShardId!, parentShardIds: parents, closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined };
}
