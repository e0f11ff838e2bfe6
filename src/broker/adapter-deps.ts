import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What every adapter factory is given beside its own config section. */
export interface AdapterDeps {
  readonly logger: Logger;
  /** The injected metrics registry; adapters register broker-specific metrics here. */
  readonly registry: Registry;
}
