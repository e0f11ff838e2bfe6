import type { JetStreamManager } from '@nats-io/jetstream';
import { AckPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type AdapterUse,
  type CheckOptions,
  deadLetterDestinations,
  failed,
  passed,
  type ResourceCheck,
  timedCheck,
} from '../../src/broker/preflight.ts';
import { CONSUMER_NOT_FOUND, connectNats, isNotFound, manager, STREAM_NOT_FOUND } from './client.ts';
import type { NatsConfig } from './config.ts';
import { streamNameOf } from './nats-publisher.ts';

/**
 * `sluice config check --connect` for a NATS section, by what start-up asks of the server
 * (client.ts): the servers answer with JetStream enabled; for a source, the stream exists and the
 * durable consumer exists with explicit acks (and `max_ack_pending` 1 when `ordered`), or with
 * `createResources: true` will be created at start; for dead letters, a stream captures each
 * dead-letter subject, or the publisher will create one (`createResources`). A server that does
 * not answer stops the checks after one line.
 */
export async function* checkResources(config: NatsConfig, use: AdapterUse, { timeoutMs }: CheckOptions): AsyncGenerator<ResourceCheck> {
  const quick: NatsConfig = { ...config, connectTimeoutMs: timeoutMs };
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  const what = `nats servers ${config.servers.join(',')}`;
  const connected = await timedCheck(what, timeoutMs + 1000, async () => {
    nc = await connectNats(quick, 'sluice-config-check');
    jsm = await manager(nc, quick);
    const account = await jsm.getAccountInfo();
    return passed(what, `JetStream enabled, ${account.streams} stream(s) in the account`);
  });
  try {
    yield use.role === 'source' ? { ...connected, sources: [config.stream] } : connected;
    if (!connected.ok || jsm === undefined) return;
    if (use.role === 'source') yield* checkSource(jsm, quick, timeoutMs);
    else for (const subject of deadLetterDestinations(use)) yield await checkDeadLetterSubject(jsm, quick, subject, timeoutMs);
  } finally {
    // A check that timed out may still connect afterwards: close whatever it got.
    await (nc as NatsConnection | undefined)?.close().catch(() => undefined);
  }
}

async function* checkSource(jsm: JetStreamManager, config: NatsConfig, timeoutMs: number): AsyncGenerator<ResourceCheck> {
  const { stream, consumer } = config;
  const streamWhat = `stream ${stream}`;
  let streamExists = false;
  yield await timedCheck(streamWhat, timeoutMs, async () => {
    try {
      const info = await jsm.streams.info(stream);
      streamExists = true;
      return passed(streamWhat, `${info.state.messages} message(s), subjects ${info.config.subjects?.join(', ') ?? '(none)'}`);
    } catch (error) {
      if (!isNotFound(error, STREAM_NOT_FOUND)) return failed(streamWhat, error);
      if (config.createResources) return passed(streamWhat, 'does not exist: created at start (createResources: true)');
      return failed(streamWhat, 'does not exist (broker.nats.stream): create it, or set broker.nats.createResources: true (development)');
    }
  });
  const consumerWhat = `durable consumer ${consumer}`;
  if (!streamExists) {
    if (config.createResources) yield passed(consumerWhat, 'created with the stream at start (createResources: true)');
    return;
  }
  yield await timedCheck(consumerWhat, timeoutMs, async () => {
    try {
      const info = await jsm.consumers.info(stream, consumer);
      const { ack_policy, max_ack_pending } = info.config;
      if (ack_policy !== AckPolicy.Explicit)
        return failed(consumerWhat, `has ack_policy ${ack_policy}; Sluice needs explicit (broker.nats.consumer)`);
      if (config.ordered && max_ack_pending !== 1)
        return failed(consumerWhat, `has max_ack_pending ${max_ack_pending}; broker.nats.ordered needs 1`);
      return passed(consumerWhat, `${info.num_pending} message(s) not yet delivered, ${info.num_ack_pending} awaiting ack`);
    } catch (error) {
      if (!isNotFound(error, CONSUMER_NOT_FOUND)) return failed(consumerWhat, error);
      if (config.createResources) return passed(consumerWhat, 'does not exist: created at start (createResources: true)');
      return failed(
        consumerWhat,
        `does not exist on stream ${stream} (broker.nats.consumer): create it, or set broker.nats.createResources: true (development)`,
      );
    }
  });
}

/** A dead letter is published to `subject`: some stream must capture it, or the publish fails. */
async function checkDeadLetterSubject(
  jsm: JetStreamManager,
  config: NatsConfig,
  subject: string,
  timeoutMs: number,
): Promise<ResourceCheck> {
  const what = `dead-letter subject ${subject}`;
  return timedCheck(what, timeoutMs, async () => {
    try {
      return passed(what, `captured by stream ${await jsm.streams.find(subject)}`);
    } catch (error) {
      if (!isNotFound(error, STREAM_NOT_FOUND)) return failed(what, error);
      if (config.createResources)
        return passed(
          what,
          `no stream captures it: stream ${streamNameOf(subject)} created on the first dead letter (createResources: true)`,
        );
      return failed(what, 'no stream captures it: dead letters would be refused; create one, or set broker.nats.createResources: true');
    }
  });
}
