import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { errorMessage, SluiceError } from '../../src/errors.ts';
import { connectNats, manager } from './client.ts';
import type { NatsConfig } from './config.ts';

/**
 * NATS has no message key: Sluice carries an event's key in this header, and the source hands it
 * back as `event.key` (and leaves it out of `event.headers`), so keys and headers round trip.
 */
export const KEY_HEADER = 'Sluice-Key';

/**
 * A publish with no stream capturing the subject: the server has no responder for it, which the
 * client reports as "jetstream is not enabled" (the same answer as a server without JetStream).
 */
const noStream = (error: unknown): boolean => /no responders|503|jetstream is not enabled/i.test(errorMessage(error));

/** A JetStream name made of a subject: `orders.dlq` → `orders_dlq`. */
export const streamNameOf = (subject: string): string => subject.replace(/[\s.*>/\\]/g, '_');

export function toHeaders(event: OutgoingEvent): MsgHdrs | undefined {
  const entries = event.headers ? Object.entries(event.headers) : [];
  if (event.key === undefined && entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [name, value] of entries) h.set(name, value);
  if (event.key !== undefined) h.set(KEY_HEADER, event.key);
  return h;
}

/**
 * Confirmed publishes: each event is a JetStream publish awaiting its PubAck (stored in the
 * stream), all of a batch in flight at once on one connection. The server handles one
 * connection's messages in the order sent, so a key's events keep their order. A subject no
 * stream captures fails (not retriable), or with createResources gets a stream of its own
 * (`orders.dlq` → stream `orders_dlq`): dead letters then need no setup in development.
 */
export class NatsPublisher implements Publisher {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly created = new Map<string, Promise<void>>();

  constructor(private readonly config: NatsConfig) {}

  async connect(): Promise<void> {
    if (this.nc) return;
    this.nc = await connectNats(this.config, 'sluice-publisher');
    this.js = jetstream(this.nc, { timeout: this.config.publishTimeoutMs });
  }

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (!this.js) throw new SluiceError('nats publisher: publish before connect()');
    const js = this.js;
    const send = () => Promise.all(events.map((event) => js.publish(destination, event.payload, { headers: toHeaders(event) })));
    try {
      await send();
    } catch (error) {
      if (!noStream(error)) throw new SluiceError(`nats publish to ${destination}: ${errorMessage(error)}`, { retriable: true, cause: error });
      if (!this.config.createResources)
        throw new SluiceError(
          `nats publish to ${destination}: no JetStream stream captures this subject (create one, or set broker.nats.createResources)`,
          { retriable: false, cause: error },
        );
      await this.createStream(destination);
      await send();
    }
  }

  private createStream(subject: string): Promise<void> {
    let creating = this.created.get(subject);
    if (!creating) {
      creating = (async () => {
        const jsm = await manager(this.nc!, this.config);
        await jsm.streams.add({ name: streamNameOf(subject), subjects: [subject] });
      })();
      creating.catch(() => this.created.delete(subject));
      this.created.set(subject, creating);
    }
    return creating;
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    if (nc) await nc.drain().catch(() => nc.close());
  }
}
