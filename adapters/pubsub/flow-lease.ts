import { Duration, Message, type SubscriberOptions } from '@google-cloud/pubsub';
import type { EventSink } from '../../src/broker/contract.ts';
import type { PubSubConfig } from './config.ts';
import type { PubSubMetrics } from './metrics.ts';

/** The client's flow control for a sink: the queue's capacity plus what is in flight. */
export function flowControlFor(
  config: PubSubConfig,
  sink: Pick<EventSink, 'maxBatch' | 'capacity'>,
): { maxMessages: number; maxBytes: number } {
  const capacity = sink.capacity;
  const maxMessages = config.flowControl.maxMessages ?? capacity.events + sink.maxBatch + config.flowControl.inFlight;
  const maxBytes = config.flowControl.maxBytes ?? Math.ceil((capacity.bytes * maxMessages) / Math.max(1, capacity.events));
  return { maxMessages, maxBytes };
}

/**
 * The subscriber's options: flow control matching the core queue (allowExcessMessages false, so
 * events are not buffered twice), lease extension up to `lease.maxExtensionMinutes` within the
 * configured deadline bounds, and a close that nacks what the client still holds (NackImmediately).
 */
export function subscriberOptions(config: PubSubConfig, flowControl: { maxMessages: number; maxBytes: number }): SubscriberOptions {
  const lease = config.lease;
  return {
    flowControl: { ...flowControl, allowExcessMessages: false },
    streamingOptions: { maxStreams: config.streams },
    maxExtensionTime: Duration.from({ minutes: lease.maxExtensionMinutes }),
    ...(lease.minAckDeadlineSeconds ? { minAckDeadline: Duration.from({ seconds: lease.minAckDeadlineSeconds }) } : {}),
    ...(lease.maxAckDeadlineSeconds ? { maxAckDeadline: Duration.from({ seconds: lease.maxAckDeadlineSeconds }) } : {}),
    closeOptions: { behavior: 'NACK', timeout: Duration.from({ milliseconds: config.closeTimeoutMs }) },
  };
}

/**
 * Counts lease extensions (`sluice_pubsub_lease_extensions_total`). They are observable because
 * the client's lease manager calls message.modAck() (modAckWithResponse on exactly-once
 * subscriptions) for each extension. The receipt modAck is sent before a message reaches us, and
 * nack() goes through the subscriber, so only extensions are counted. One function per source,
 * assigned to each message: no closure per message.
 */
export class LeaseCounter {
  private readonly modAck: (deadline: number) => void;
  private readonly modAckWithResponse: (deadline: number) => Promise<unknown>;

  constructor(metrics: PubSubMetrics) {
    const modAck = Message.prototype.modAck;
    const modAckWithResponse = Message.prototype.modAckWithResponse;
    this.modAck = function (this: Message, deadline: number) {
      if (deadline > 0) metrics.leaseExtensions++;
      return modAck.call(this, deadline);
    };
    this.modAckWithResponse = function (this: Message, deadline: number) {
      if (deadline > 0) metrics.leaseExtensions++;
      return modAckWithResponse.call(this, deadline);
    };
  }

  /** Counts the extensions of `message` from now on. */
  watch(message: Message): void {
    const leased = message as unknown as { modAck: unknown; modAckWithResponse: unknown };
    leased.modAck = this.modAck;
    leased.modAckWithResponse = this.modAckWithResponse;
  }
}
