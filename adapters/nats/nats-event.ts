import type { JsMsg } from '@nats-io/jetstream';
import type { Position, SourceEvent } from '../../src/broker/contract.ts';
import { BaseEvent, type EventOwner } from '../../src/source-kit/index.ts';
import { KEY_HEADER } from './nats-publisher.ts';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One delivery of a JetStream message. Its id and position are the stream sequence, which a
 * redelivery keeps; `attempt` is the server's delivery count, so a redelivery after a nack, an
 * ack-wait expiry or a restart says so. The key is the Sluice-Key header (NATS has no key).
 */
export class NatsEvent extends BaseEvent<NatsEvent> implements SourceEvent {
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** When the client handed the message over (bench hooks: the start of Sluice's own latency). */
  readonly receivedAt = Date.now();

  constructor(
    private readonly reader: EventOwner<NatsEvent>,
    readonly msg: JsMsg,
    readonly source: string,
    attempt = msg.info.deliveryCount,
  ) {
    super(attempt);
    const h = msg.headers;
    if (h === undefined) {
      this.key = undefined;
      this.headers = NO_HEADERS;
      return;
    }
    this.key = h.has(KEY_HEADER) ? h.get(KEY_HEADER) : undefined;
    const headers: Record<string, string> = {};
    for (const name of h.keys()) if (name !== KEY_HEADER) headers[name] = h.get(name);
    this.headers = headers;
  }

  protected get owner(): EventOwner<NatsEvent> {
    return this.reader;
  }

  get payload(): Buffer {
    const data = this.msg.data;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  get id(): string {
    return `${this.source}@${this.msg.seq}`;
  }

  get position(): Position {
    return { partition: this.source, offset: String(this.msg.seq) };
  }

  get timestamp(): number {
    return this.msg.info.timestampNanos / 1e6;
  }

  redelivery(): NatsEvent {
    return new NatsEvent(this.reader, this.msg, this.source, this.attempt + 1);
  }
}
