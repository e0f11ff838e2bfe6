/**
 * The connection and the JetStream resources (stream, durable consumer): what start-up requires,
 * and how a missing piece is reported (an error naming the key) or, with createResources, made.
 */
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection, nanos } from '@nats-io/transport-node';
import { readConfiguredFile, secretFromEnv } from '../../src/config/secrets.ts';
import { ConfigError, ConnectionError, errorMessage } from '../../src/errors.ts';
import { withTimeout } from '../../src/source-kit/index.ts';
import type { NatsConfig } from './config.ts';

export const STREAM_NOT_FOUND = 10059; // JetStreamApiCodes
export const CONSUMER_NOT_FOUND = 10014;

/** Whether the server answered that the stream or consumer (`code`) does not exist. */
export const isNotFound = (error: unknown, code: number): boolean => error instanceof JetStreamApiError && error.code === code;

/** What connecting needs beside the servers: credentials and TLS, read from their files and variables. */
export type NatsSecurity = Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

/**
 * The credentials and TLS settings of `config`, with every file read and every variable looked
 * up now: a missing one is a ConfigError naming its key, at `config check` as at start-up
 * (preflight.ts runs the three parts one by one, to report every problem at once), never a
 * connection that fails later for a reason it hides.
 */
export function securityOptions(config: NatsConfig, env: NodeJS.ProcessEnv = process.env): NatsSecurity {
  return { ...credentialsOf(config, env), ...credsFileOf(config), ...tlsOf(config) };
}

/** User and password, or token, each from the config or its environment variable. */
export function credentialsOf(config: NatsConfig, env: NodeJS.ProcessEnv): NatsSecurity {
  const options: NatsSecurity = {};
  if (config.user) options.user = config.user;
  const pass = config.passEnv ? secretFromEnv(env, config.passEnv, 'broker.nats.passEnv') : config.pass;
  if (pass) options.pass = pass;
  const token = config.tokenEnv ? secretFromEnv(env, config.tokenEnv, 'broker.nats.tokenEnv') : config.token;
  if (token) options.token = token;
  return options;
}

/** The user JWT and NKey seed of decentralized auth. */
export function credsFileOf(config: NatsConfig): NatsSecurity {
  if (!config.credsFile) return {};
  return { authenticator: credsAuthenticator(new TextEncoder().encode(readConfiguredFile('broker.nats.credsFile', config.credsFile))) };
}

/** `tls`: false leaves the client's default, TLS only where a server's INFO requires it (with the system CAs). */
export function tlsOf(config: NatsConfig): NatsSecurity {
  const tls = config.tls;
  if (tls === false) return {};
  if (tls === true) return { tls: {} };
  return {
    tls: {
      ...(tls.ca ? { ca: readConfiguredFile('broker.nats.tls.ca', tls.ca) } : {}),
      ...(tls.cert ? { cert: readConfiguredFile('broker.nats.tls.cert', tls.cert) } : {}),
      ...(tls.key ? { key: readConfiguredFile('broker.nats.tls.key', tls.key) } : {}),
      // Passed through to node:tls by the client's transport.
      ...({ rejectUnauthorized: tls.rejectUnauthorized, ...(tls.servername ? { servername: tls.servername } : {}) } as object),
    },
  };
}

/** Connects within connectTimeoutMs, then reconnects forever (a restarted server keeps its streams). */
export async function connectNats(config: NatsConfig, name: string, security = securityOptions(config)): Promise<NatsConnection> {
  const { servers, connectTimeoutMs: timeout } = config;
  try {
    const connecting = connect({ servers, name, timeout, ...security, maxReconnectAttempts: -1 });
    return await withTimeout(connecting, timeout + 1000, 'connecting');
  } catch (error) {
    throw new ConnectionError(`cannot connect to NATS at ${servers.join(',')} (broker.nats.servers): ${errorMessage(error)}`, error);
  }
}

export const manager = (nc: NatsConnection, config: NatsConfig): Promise<JetStreamManager> =>
  jetstreamManager(nc, { timeout: config.connectTimeoutMs });

/** `lookup()`, or undefined when the server says `notFound`; other failures name `what`. */
async function find<T>(lookup: () => Promise<T>, notFound: number, what: string): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isNotFound(error, notFound)) return undefined;
    throw new ConnectionError(`NATS JetStream: cannot look up ${what}: ${errorMessage(error)}`, error);
  }
}

const missing = (key: string, what: string) =>
  new ConfigError(`broker.nats.${key}`, `${what} does not exist (create it, or set broker.nats.createResources)`);

/** The stream exists, or is created (createResources); else an error naming broker.nats.stream. */
export async function ensureStream(jsm: JetStreamManager, config: NatsConfig): Promise<void> {
  const { stream } = config;
  if (await find(() => jsm.streams.info(stream), STREAM_NOT_FOUND, `stream ${stream}`)) return;
  if (!config.createResources) throw missing('stream', `stream ${stream}`);
  await jsm.streams.add({ name: stream, subjects: config.subjects ?? [stream] });
}

/**
 * The durable consumer exists with explicit acks (max_ack_pending 1 if `ordered`), or is created,
 * with max_deliver unlimited: the source enforces `maxDeliver` (to the dead-letter subject) where
 * the server would stop delivering the message and leave it in the stream unseen.
 */
export async function ensureConsumer(jsm: JetStreamManager, config: NatsConfig): Promise<ConsumerInfo> {
  const { stream, consumer } = config;
  let info = await find(() => jsm.consumers.info(stream, consumer), CONSUMER_NOT_FOUND, `consumer ${consumer}`);
  if (!info) {
    if (!config.createResources) throw missing('consumer', `durable consumer ${consumer} of stream ${stream}`);
    info = await jsm.consumers.add(stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(config.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: config.ordered ? 1 : config.maxAckPending,
      deliver_policy: config.startFrom === 'earliest' ? DeliverPolicy.All : DeliverPolicy.New,
      ...(config.filterSubject ? { filter_subject: config.filterSubject } : {}),
    });
  }
  const { ack_policy, max_ack_pending } = info.config;
  if (ack_policy !== AckPolicy.Explicit)
    throw new ConfigError('broker.nats.consumer', `consumer ${consumer} has ack_policy ${ack_policy}; Sluice needs explicit`);
  if (config.ordered && max_ack_pending !== 1)
    throw new ConfigError('broker.nats.ordered', `consumer ${consumer} has max_ack_pending ${max_ack_pending}; ordered needs 1`);
  return info;
}
