import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { BearerAuth } from './auth.ts';
import type { HttpConfig } from './config.ts';
import { HttpPublisher } from './http-publisher.ts';
import { HttpSource } from './http-source.ts';
import { HttpMetrics } from './metrics.ts';

/** Nothing to create: an HTTP source has no destinations. */
class HttpAdmin implements BrokerAdmin {
  async createDestination(): Promise<void> {}
  async deleteDestination(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * HTTP ingest (broker.type http). Not a broker: the client holds an event until its response,
 * so nothing survives a restart here (persistent false), a nack is reported to the client rather
 * than redelivered (redeliversOnNack false), and concurrent requests have no order between them.
 */
export class HttpAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'http';
  readonly features: BrokerFeatures;
  /** The last source created: the publisher posts to its port by default. */
  private source: HttpSource | undefined;

  constructor(
    readonly config: HttpConfig,
    private readonly logger: Logger,
    private readonly registry: Registry,
  ) {
    this.features = {
      orderedByKey: false,
      persistent: false,
      consumerGroups: false,
      redeliversOnNack: false,
      nackKeepsKeyOrder: false,
      handsOverPartitions: false,
      headers: true,
      // NDJSON carries the payload in base64 (4 bytes per 3), with room for the key and headers.
      maxPayloadBytes: Math.floor((config.maxBodyBytes - 64 * 1024) * 0.75),
      // A server that listens has no client to lose.
      fatalOnLostDestination: false,
    };
  }

  createSource(): Source {
    this.source = new HttpSource(this.config, HttpMetrics.for(this.registry), this.logger);
    return this.source;
  }

  createPublisher(): Publisher {
    const auth = this.config.auth;
    const token = auth.tokensEnv || auth.tokensFile ? BearerAuth.firstToken(auth) : undefined;
    return new HttpPublisher(() => this.config.publishUrl ?? this.ownUrl(), token);
  }

  createAdmin(): BrokerAdmin {
    return new HttpAdmin();
  }

  private ownUrl(): string {
    const scheme = this.config.tls.certFile ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${this.source?.port ?? this.config.port}/v1/events`;
  }
}
