import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { ConnectionError, SluiceError } from '../../src/errors.ts';

/**
 * Publishes by POSTing NDJSON to an HTTP ingest endpoint (`publishUrl`, by default this
 * instance's own): for dead letters of an HTTP source, tests and load. `destination` is not
 * part of the request: an HTTP source has one stream. Resolves when the server answered 2xx;
 * a 429 or 5xx is a retriable error, another status not.
 */
export class HttpPublisher implements Publisher {
  constructor(
    private readonly url: () => string,
    private readonly token: string | undefined,
  ) {}

  async connect(): Promise<void> {}

  async publish(_destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const body = events
      .map((event) => JSON.stringify({ key: event.key, headers: event.headers, payloadBase64: event.payload.toString('base64') }))
      .join('\n');
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(this.url(), { method: 'POST', headers, body });
    } catch (error) {
      throw new ConnectionError(`http publisher: ${this.url()} unreachable: ${(error as Error).message}`, error);
    }
    const text = await response.text();
    if (response.ok) return;
    const retriable = response.status === 429 || response.status >= 500;
    throw new SluiceError(`http publisher: ${this.url()} answered ${response.status}: ${text.slice(0, 300)}`, { retriable });
  }

  async close(): Promise<void> {}
}
