/**
 * The connection and the JetStream resources (stream, durable consumer) of the NATS adapter: one
 * place that says what start-up requires and how a missing piece is reported (an error naming
 * the config key) or, with createResources, created.
 */
import { AckPolicy, type ConsumerInfo, DeliverPolicy, JetStreamApiError, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { ConfigError, ConnectionError, errorMessage, SluiceError } from '../../src/errors.ts';
import { withTimeout } from '../../src/source-kit/index.ts';
import type { NatsConfig } from './config.ts';

/** JetStream API error codes the adapter tells apart (JetStreamApiCodes). */
export const STREAM_NOT_FOUND = 10059;
export const CONSUMER_NOT_FOUND = 10014;

export const apiCode = (error: unknown): number | undefined => (error instanceof JetStreamApiError ? error.code : undefined);

/** Connects within connectTimeoutMs; an error naming broker.nats.servers when no server answers. */
export async function connectNats(config: NatsConfig, name: string): Promise<NatsConnection> {
  const timeout = config.connectTimeoutMs;
  try {
    return await withTimeout(
      connect({
        servers: config.servers,
        name,
        timeout,
        user: config.user,
        pass: config.pass,
        token: config.token,
        // Reconnect forever: a restarted server comes back with its streams; the source reports
        // unreadiness meanwhile (health) instead of exiting.
        maxReconnectAttempts: -1,
      }),
      timeout + 1000,
      `connecting to NATS (broker.nats.servers ${config.servers.join(',')})`,
    );
  } catch (error) {
    throw new ConnectionError(`cannot connect to NATS at ${config.servers.join(',')} (broker.nats.servers): ${errorMessage(error)}`, error);
  }
}

export const manager = (nc: NatsConnection, config: NatsConfig): Promise<JetStreamManager> =>
  jetstreamManager(nc, { timeout: config.connectTimeoutMs });

/** The stream exists, or is created (createResources); else an error naming broker.nats.stream. */
export async function ensureStream(jsm: JetStreamManager, config: NatsConfig): Promise<void> {
  try {
    await jsm.streams.info(config.stream);
    return;
  } catch (error) {
    if (apiCode(error) !== STREAM_NOT_FOUND) throw wrap(error, `stream ${config.stream}`);
  }
  if (!config.createResources)
    throw new ConfigError('broker.nats.stream', `stream ${config.stream} does not exist (create it, or set broker.nats.createResources)`);
  await jsm.streams.add({ name: config.stream, subjects: config.subjects ?? [config.stream] });
}

/**
 * The durable pull consumer exists with explicit acks (and max_ack_pending 1 when `ordered`), or
 * is created (createResources). max_deliver stays unlimited on the server: the adapter enforces
 * `maxDeliver` itself, publishing to the dead-letter subject instead of letting the server stop
 * delivering a message that then sits in the stream unseen.
 */
export async function ensureConsumer(jsm: JetStreamManager, config: NatsConfig): Promise<ConsumerInfo> {
  let info: ConsumerInfo | undefined;
  try {
    info = await jsm.consumers.info(config.stream, config.consumer);
  } catch (error) {
    if (apiCode(error) !== CONSUMER_NOT_FOUND) throw wrap(error, `consumer ${config.consumer}`);
  }
  if (info === undefined) {
    if (!config.createResources)
      throw new ConfigError(
        'broker.nats.consumer',
        `durable consumer ${config.consumer} of stream ${config.stream} does not exist (create it, or set broker.nats.createResources)`,
      );
    info = await jsm.consumers.add(config.stream, {
      durable_name: config.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(config.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: config.ordered ? 1 : config.maxAckPending,
      deliver_policy: config.startFrom === 'earliest' ? DeliverPolicy.All : DeliverPolicy.New,
      ...(config.filterSubject ? { filter_subject: config.filterSubject } : {}),
    });
  }
  if (info.config.ack_policy !== AckPolicy.Explicit)
    throw new ConfigError('broker.nats.consumer', `consumer ${config.consumer} has ack_policy ${info.config.ack_policy}; Sluice needs explicit acks`);
  if (config.ordered && info.config.max_ack_pending !== 1)
    throw new ConfigError(
      'broker.nats.ordered',
      `consumer ${config.consumer} has max_ack_pending ${info.config.max_ack_pending}; ordered needs 1 (or set ordered false)`,
    );
  return info;
}

function wrap(error: unknown, what: string): SluiceError {
  return new ConnectionError(`NATS JetStream: cannot look up ${what}: ${errorMessage(error)}`, error);
}
