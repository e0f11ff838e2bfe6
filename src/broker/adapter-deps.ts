import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../audit/ack-audit.ts';

/** What every adapter factory is given beside its own config section. */
export interface AdapterDeps {
  readonly logger: Logger;
  /** The injected metrics registry; adapters register broker-specific metrics here. */
  readonly registry: Registry;
  /** The ack audit when `audit.file` is set: sources report every commit / ack they send (src/audit). */
  readonly audit?: AckAudit;
}
