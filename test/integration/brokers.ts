// What integration tests use to reach the real brokers that the global setup
// (test/integration/global-setup.ts) started or found running.
//
//   describeWithBroker('kafka', 'kafka adapter', (kafka) => {
//     it('...', async () => { new Kafka({ brokers: kafka.brokers }) ... });
//   });
//
//   it('...', async (ctx) => { const dynamo = requireBroker('dynamodb', ctx); ... });
//
// A broker that is not available never passes silently: in CI (CI=true) the test fails with
// the reason and the broker's log tail; elsewhere the suite or test is skipped and the reason
// printed with console.warn.
import { randomBytes } from 'node:crypto';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, inject, it, type TestContext } from 'vitest';
import { BROKER_NAMES, type AwsEndpoint, type BrokerEndpoint, type BrokerName, type EndpointOf } from '../../deploy/local/endpoints.ts';

export type { AwsEndpoint, BrokerEndpoint, BrokerName, EndpointOf, KafkaEndpoint, PubSubEndpoint } from '../../deploy/local/endpoints.ts';

export type BrokerAvailability =
  | { available: true; endpoint: BrokerEndpoint; startedBySetup: boolean }
  | {
      available: false;
      reason: string;
      logTail?: string;
      /** Left out on purpose (SLUICE_BROKERS): its suites are skipped, in CI too. */
      notRequested?: boolean;
    };

export type BrokerAvailabilityMap = Partial<Record<BrokerName, BrokerAvailability>>;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/integration/global-setup.ts for every broker it was asked about. */
    sluiceBrokers: BrokerAvailabilityMap;
  }
}

export const inCI = process.env.CI === 'true';

export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/** Whether `name` can be used, and if not, why. Has no side effects. */
export function brokerAvailability(name: BrokerName): BrokerAvailability {
  let map: BrokerAvailabilityMap | undefined;
  try {
    map = inject('sluiceBrokers');
  } catch {
    map = undefined;
  }
  if (!map) {
    return { available: false, reason: 'the integration global setup did not run (use --project integration)' };
  }
  return (
    map[name] ?? {
      available: false,
      reason: `${name} was not requested (SLUICE_BROKERS=${process.env.SLUICE_BROKERS ?? ''})`,
      notRequested: true,
    }
  );
}

// Each test file gets the variables that point SDKs at the available brokers (for example
// PUBSUB_EMULATOR_HOST, and METADATA_SERVER_DETECTION=none so google-auth never probes the
// GCE metadata server), whether or not the worker inherited them from the global setup.
for (const name of BROKER_NAMES) {
  const a = brokerAvailability(name);
  if (!a.available) continue;
  for (const [key, value] of Object.entries(a.endpoint.env)) process.env[key] ??= value;
}

function unavailableMessage(name: BrokerName, a: Extract<BrokerAvailability, { available: false }>): string {
  const tail = a.logTail ? `\n--- last lines of its log ---\n${a.logTail}` : '';
  return `broker ${name} unavailable: ${a.reason}${tail}`;
}

/**
 * The endpoint of `name`. If the broker is unavailable: with a test context outside CI (or
 * when SLUICE_BROKERS left it out), the test is skipped and the reason printed; otherwise a
 * BrokerUnavailableError is thrown, which fails the test or the hook that asked.
 */
export function requireBroker<N extends BrokerName>(name: N, ctx?: TestContext): EndpointOf<N> {
  const a = brokerAvailability(name);
  if (a.available) return a.endpoint as EndpointOf<N>;
  const message = unavailableMessage(name, a);
  if (ctx && (!inCI || a.notRequested)) {
    console.warn(`[skip] ${ctx.task.name}: ${message}`);
    ctx.skip(message);
  }
  throw new BrokerUnavailableError(message);
}

/**
 * `describe(title, body)` run with the broker's endpoint. Unavailable broker: outside CI (or
 * when SLUICE_BROKERS left it out) the suite is registered as skipped and the reason printed;
 * in CI the suite fails with the reason and the broker's log tail.
 */
export function describeWithBroker<N extends BrokerName>(name: N, title: string, body: (endpoint: EndpointOf<N>) => void): void {
  const a = brokerAvailability(name);
  if (a.available) {
    describe(title, () => body(a.endpoint as EndpointOf<N>));
    return;
  }
  const message = unavailableMessage(name, a);
  if (inCI && !a.notRequested) {
    describe(title, () => {
      it(`needs ${name}`, () => {
        throw new BrokerUnavailableError(message);
      });
    });
    return;
  }
  console.warn(`[skip] ${title}: ${message}`);
  // The body is not run: it may read the endpoint while collecting.
  describe.skip(title, () => {
    it(`needs ${name}: ${a.reason}`, () => undefined);
  });
}

/** Options for an AWS SDK v3 client (Kinesis, DynamoDB) against a local plain-HTTP server. */
export function awsClientConfig(endpoint: AwsEndpoint) {
  return {
    endpoint: endpoint.url,
    region: endpoint.region,
    credentials: { ...endpoint.credentials },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 3,
  };
}

/** A fresh name for a topic, group, stream or table, so tests never share broker state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
