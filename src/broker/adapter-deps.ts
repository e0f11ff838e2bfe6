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
  /**
   * Which topics (streams, …) are Sluice's own dead-letter destinations on this broker (from
   * `deadLetter.destination`, src/dead-letter/dead-letter-topics.ts): a source that reads by
   * pattern leaves them out, so it never reads its dead letters back. Unset: none are.
   */
  readonly deadLetterTopics?: (topic: string) => boolean;
}
