import { PubSub, type ClientConfig } from '@google-cloud/pubsub';
import { AuthenticationError, ConnectionError, NotFoundError, SluiceError } from '../../src/errors.ts';
import type { PubSubConfig } from './config.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';

/** gRPC status codes the adapter tells apart. */
export const GrpcCode = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const RETRIABLE_CODES = new Set<number>([
  GrpcCode.CANCELLED,
  GrpcCode.DEADLINE_EXCEEDED,
  GrpcCode.RESOURCE_EXHAUSTED,
  GrpcCode.ABORTED,
  GrpcCode.INTERNAL,
  GrpcCode.UNAVAILABLE,
  GrpcCode.UNKNOWN,
]);

export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Where the client connects, as resolved from config and environment. */
export interface Endpoint {
  /** host:port, or undefined for Google's production endpoint. */
  address: string | undefined;
  emulator: boolean;
  projectId: string | undefined;
}

export function resolveEndpoint(config: PubSubConfig, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const address = config.endpoint ?? env.PUBSUB_EMULATOR_HOST ?? undefined;
  const official = address === undefined || /(^|\.)googleapis\.com(:\d+)?$/.test(address.replace(/^https?:\/\//, ''));
  const emulator = config.emulator ?? !official;
  return { address, emulator, projectId: config.projectId ?? env.PUBSUB_PROJECT_ID ?? undefined };
}

/**
 * A PubSub client for the config. Production uses application default credentials (workload
 * identity, GOOGLE_APPLICATION_CREDENTIALS, gcloud). The emulator gets a plain-text channel and
 * an explicit universe domain: without it the auth library would probe the GCE metadata server
 * to learn the universe, a request that leaves the machine.
 */
export function createClient(config: PubSubConfig): PubSub {
  const endpoint = resolveEndpoint(config);
  const options: ClientConfig & { universeDomain?: string } = {};
  if (endpoint.projectId) options.projectId = endpoint.projectId;
  if (endpoint.address) options.apiEndpoint = endpoint.address;
  if (endpoint.emulator) {
    options.emulatorMode = true;
    options.universeDomain = 'googleapis.com';
    options.projectId ??= 'sluice-local';
  } else if (endpoint.address) {
    options.emulatorMode = false;
  }
  return new PubSub(options);
}

/** What the client is talking to, for messages. */
export function describeEndpoint(config: PubSubConfig): string {
  const endpoint = resolveEndpoint(config);
  return `${endpoint.emulator ? 'emulator ' : ''}${endpoint.address ?? 'pubsub.googleapis.com'}`;
}

/** Turns a client error into a typed Sluice error; `what` names the resource or operation. */
export function toSluiceError(error: unknown, what: string, config: PubSubConfig): SluiceError {
  if (error instanceof SluiceError) return error;
  const code = grpcCode(error);
  const detail = (error as Error | undefined)?.message ?? String(error);
  const where = describeEndpoint(config);
  switch (code) {
    case GrpcCode.NOT_FOUND:
      return new NotFoundError(`pubsub: ${what} does not exist (${where})`, error);
    case GrpcCode.PERMISSION_DENIED:
    case GrpcCode.UNAUTHENTICATED:
      return new AuthenticationError(`pubsub: ${what}: permission denied (${where}): ${detail}`, error);
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.DEADLINE_EXCEEDED:
      return new ConnectionError(`pubsub: ${what}: ${where} unreachable: ${detail}`, error);
    default:
      if (/Could not load the default credentials|invalid_grant|Unable to detect a Project Id/i.test(detail)) {
        return new AuthenticationError(`pubsub: ${what}: no usable credentials (${where}): ${detail}`, error);
      }
      return new SluiceError(`pubsub: ${what}: ${detail}`, { retriable: code === undefined || RETRIABLE_CODES.has(code), cause: error });
  }
}

/**
 * Runs an admin call with a hard bound: gax retries UNAVAILABLE with backoff for up to a minute
 * by default, and start-up must fail clearly within `timeoutMs`.
 */
export async function bounded<T>(what: string, timeoutMs: number, config: PubSubConfig, call: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(
      call(),
      timeoutMs,
      () => new ConnectionError(`pubsub: ${what}: no answer from ${describeEndpoint(config)} within ${timeoutMs} ms`),
    );
  } catch (error) {
    throw toSluiceError(error, what, config);
  }
}

/** gax options for admin calls: a per-call deadline within the bound. */
export const gaxTimeout = (timeoutMs: number) => ({ timeout: timeoutMs });

/** The short name of a resource: `projects/p/topics/t` → `t`. */
export const shortName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);
