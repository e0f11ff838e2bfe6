import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { errorMessage, SluiceError } from '../../src/errors.ts';
import { connectNats, manager } from './client.ts';
import type { NatsConfig } from './config.ts';

/** NATS has no message key: Sluice carries it in this header, and the source hands it back as `event.key`. */
export const KEY_HEADER = 'Sluice-Key';

/** No stream captures the subject: the server has no responder, which the client reports as "jetstream is not enabled". */
const noStream = (error: unknown): boolean => /no responders|503|jetstream is not enabled/i.test(errorMessage(error));

/** The stream made for a subject nothing captures: `orders.dlq` → `orders_dlq`. */
export const streamNameOf = (subject: string): string => subject.replace(/[\s.*>/\\]/g, '_');

function headersOf({ key, headers = {} }: OutgoingEvent) {
  if (key === undefined && Object.keys(headers).length === 0) return undefined;
  const h = natsHeaders();
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  if (key !== undefined) h.set(KEY_HEADER, key);
  return h;
}

/**
 * Confirmed publishes: each event is a JetStream publish awaiting its PubAck (stored), a batch's
 * all in flight at once on one connection, whose messages the server takes in the order sent, so
 * a key's events keep their order. A subject no stream captures fails (not retriable) or, with
 * createResources, gets a stream of its own: dead letters then need no setup in development.
 */
export class NatsPublisher implements Publisher {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly created = new Map<string, Promise<unknown>>();

  constructor(private readonly config: NatsConfig) {}

  async connect(): Promise<void> {
    this.nc ??= await connectNats(this.config, 'sluice-publisher');
    this.js ??= jetstream(this.nc, { timeout: this.config.publishTimeoutMs });
  }

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    const js = this.js;
    if (!js) throw new SluiceError('nats publisher: publish before connect()');
    const send = () => Promise.all(events.map((event) => js.publish(destination, event.payload, { headers: headersOf(event) })));
    try {
      await send();
    } catch (error) {
      const where = `nats publish to ${destination}`;
      if (!noStream(error)) throw new SluiceError(`${where}: ${errorMessage(error)}`, { retriable: true, cause: error });
      if (!this.config.createResources)
        throw new SluiceError(`${where}: no JetStream stream captures it (create one, or set broker.nats.createResources)`, {
          cause: error,
        });
      await this.createStream(destination);
      await send();
    }
  }

  private createStream(subject: string): Promise<unknown> {
    const creating =
      this.created.get(subject) ??
      manager(this.nc!, this.config).then((jsm) => jsm.streams.add({ name: streamNameOf(subject), subjects: [subject] }));
    creating.catch(() => this.created.delete(subject));
    this.created.set(subject, creating);
    return creating;
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    await nc?.drain().catch(() => nc.close());
  }
}
