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
  /** The adapter `handler.forward.broker.type` selects (the source's own when it is the same and has no section of its own). */
  ForwardAdapter: Symbol.for('sluice.ForwardAdapter') as ServiceIdentifier<BrokerAdapter>,
  /** The user's handler as loaded (or the built-in forward handler), before wrappers. */
  UserHandler: Symbol.for('sluice.UserHandler') as ServiceIdentifier<LoadedHandler>,
  DeadLetter: Symbol.for('sluice.DeadLetter') as ServiceIdentifier<DeadLetterSink | undefined>,
  /** The ack audit (`audit.file`), or undefined when it is off. */
  AckAudit: Symbol.for('sluice.AckAudit') as ServiceIdentifier<AckAudit | undefined>,
} as const;

export interface LoadedHandler {
  handler: Handler;
  /** Connects what the handler needs (the forward handler's destination broker) before the source starts. */
  start?(): Promise<void>;
  /** Runs once the pool is idle and the source closed. */
  close(): Promise<void>;
}
