import type { ServiceIdentifier } from 'inversify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../audit/ack-audit.ts';
import type { BrokerAdapter } from '../broker/contract.ts';
import type { SluiceConfig } from '../config/schema.ts';
import type { DeadLetterSink } from '../dead-letter/dead-letter.ts';
import type { Handler } from '../handler/handler.ts';

/**
 * Every service identifier in one place. Explicit tokens, no decorator metadata: tsx/esbuild do
 * not emit it.
 */
export const TOKENS = {
  Config: Symbol.for('sluice.Config') as ServiceIdentifier<SluiceConfig>,
  Logger: Symbol.for('sluice.Logger') as ServiceIdentifier<Logger>,
  Registry: Symbol.for('sluice.Registry') as ServiceIdentifier<Registry>,
  /** The adapter `broker.type` selects. */
  BrokerAdapter: Symbol.for('sluice.BrokerAdapter') as ServiceIdentifier<BrokerAdapter>,
  /** The adapter that receives dead letters of type `broker` (the source's, or another). */
  DeadLetterAdapter: Symbol.for('sluice.DeadLetterAdapter') as ServiceIdentifier<BrokerAdapter>,
  /** The user's handler as loaded, before wrappers. */
  UserHandler: Symbol.for('sluice.UserHandler') as ServiceIdentifier<LoadedHandler>,
  DeadLetter: Symbol.for('sluice.DeadLetter') as ServiceIdentifier<DeadLetterSink | undefined>,
  /** The ack audit (`audit.file`), or undefined when it is off. */
  AckAudit: Symbol.for('sluice.AckAudit') as ServiceIdentifier<AckAudit | undefined>,
} as const;

export interface LoadedHandler {
  handler: Handler;
  close(): Promise<void>;
}
