import type { JsMsg } from '@nats-io/jetstream';
import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import { BaseEvent, type EventOwner } from '../../src/source-kit/index.ts';
import { KEY_HEADER } from './nats-publisher.ts';

/**
 * One delivery of a JetStream message. Id and position are the stream sequence, which a
 * redelivery keeps; `attempt` is the server's delivery count (a nack, an ack-wait expiry or a
 * restart counts). The key is the Sluice-Key header (NATS has no key), left out of `headers`.
 */
export class NatsEvent extends BaseEvent<NatsEvent> implements SourceEvent {
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>> = {};
  readonly id: string;
  readonly timestamp: number;

  constructor(
    private readonly reader: EventOwner<NatsEvent>,
    readonly msg: JsMsg,
    readonly source: string,
    attempt = msg.info.deliveryCount,
  ) {
    super(attempt);
    this.id = `${source}@${msg.seq}`;
    this.timestamp = msg.info.timestampNanos / 1e6;
    const h = msg.headers;
    this.key = h?.has(KEY_HEADER) ? h.get(KEY_HEADER) : undefined;
    if (h) this.headers = Object.fromEntries(h.keys().flatMap((name) => (name === KEY_HEADER ? [] : [[name, h.get(name)]])));
  }

  protected get owner(): EventOwner<NatsEvent> {
    return this.reader;
  }
  get payload(): Buffer {
    const { buffer, byteOffset, byteLength } = this.msg.data;
    return Buffer.from(buffer, byteOffset, byteLength);
  }
  get position(): Position {
    return { partition: this.source, offset: String(this.msg.seq) };
  }

  redelivery(): NatsEvent {
    return new NatsEvent(this.reader, this.msg, this.source, this.attempt + 1);
  }
}
