import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisConfig } from './config.ts';
import { Http2EventStreamHandler } from './http2-event-stream-handler.ts';

/**
 * The subset of an AWS SDK v3 client the adapter calls. Tests wrap `send` to inject faults
 * (throttling, expired iterators) without mocking the broker.
 */
export interface Sendable {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is generic over each command's input and output; the adapter reads fields per command.
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
  destroy(): void;
}

export interface KinesisClients {
  /** Control and polling calls (ListShards, GetRecords, PutRecords...). */
  kinesis: Sendable;
  /** SubscribeToShard needs HTTP/2; created only for consumer.type efo. */
  fanOut?: Sendable;
  /** The lease table; only for leases.type dynamodb. */
  dynamo?: Sendable;
}

type Common = Pick<KinesisConfig, 'region' | 'credentials'>;

function common(config: Common, endpoint: string | undefined) {
  return {
    ...(config.region ? { region: config.region } : {}),
    // A copy: the SDK writes bookkeeping ($source) into the credentials object it is given.
    ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    ...(endpoint ? { endpoint } : {}),
    // Throttling and 5xx are retried by the adapter, which knows what a retry costs; the SDK
    // retries a little, so that a blip does not surface as an error.
    maxAttempts: 3,
  };
}

/**
 * The SDK's default HTTP handler speaks HTTP/2 where it can, which a plain-http local endpoint
 * (kinesalite, dynalite) does not; an explicit HTTP/1.1 handler works with both.
 */
function http1(): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 });
}

export function createKinesisClient(config: Common & Pick<KinesisConfig, 'endpoint'>): KinesisClient {
  return new KinesisClient({ ...common(config, config.endpoint), requestHandler: http1() });
}

/**
 * The client for SubscribeToShard: HTTP/2, one session per subscription (see
 * http2-event-stream-handler.ts for why not the SDK's). `tlsRejectUnauthorized: false` accepts a
 * local emulator's self-signed certificate without touching NODE_TLS_REJECT_UNAUTHORIZED.
 */
export function createFanOutClient(config: KinesisConfig): KinesisClient {
  const endpoint = config.consumer.efoEndpoint ?? config.endpoint;
  const requestHandler = new Http2EventStreamHandler(config.consumer.tlsRejectUnauthorized ? {} : { rejectUnauthorized: false });
  // Subscriptions are retried by the reader, which knows where to resume.
  return new KinesisClient({ ...common(config, endpoint), maxAttempts: 1, requestHandler: requestHandler as never });
}

export function createDynamoClient(config: KinesisConfig): DynamoDBClient {
  const endpoint = config.leases.endpoint;
  return new DynamoDBClient({ ...common(config, endpoint), requestHandler: http1() });
}

export function createClients(config: KinesisConfig): KinesisClients {
  return {
    kinesis: createKinesisClient(config),
    ...(config.consumer.type === 'efo' ? { fanOut: createFanOutClient(config) } : {}),
    ...(config.leases.type === 'dynamodb' ? { dynamo: createDynamoClient(config) } : {}),
  };
}
