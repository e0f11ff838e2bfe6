import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Source } from '../broker/contract.ts';
import type { HandlerWrapper } from '../handler/handler.ts';
import { faultRoute } from './fault-routes.ts';
import { type Faults, FaultState, NO_FAULTS } from './fault-state.ts';
import { withHandlerFaults } from './handler-faults.ts';
import { withSlowCommits } from './slow-commits.ts';

export interface FaultsConfig extends Faults {
  enabled: boolean;
}

/** What Sluice installs when `faults.enabled`: the innermost handler wrapper, the source wrapper, `/faults`. */
export interface FaultInjection {
  readonly state: FaultState;
  readonly handlerWrapper: HandlerWrapper;
  wrapSource(source: Source): Source;
  readonly route: ReturnType<typeof faultRoute>;
}

/**
 * Sets up fault injection for `config` (undefined when it is not enabled: then nothing is
 * wrapped and nothing costs). Exports `sluice_faults_active{broker,fault}` (1 while that fault is on).
 */
export function installFaults(
  config: FaultsConfig,
  logger: Logger,
  registry: Registry,
  broker: string,
  signal: AbortSignal,
): FaultInjection | undefined {
  if (!config.enabled) return undefined;
  const { enabled: _, ...initial } = config;
  logger.warn(
    'fault injection ENABLED (faults.enabled): PUT /faults on the metrics port injects handler errors, latency, stalls and slow commits. Staging and drills only.',
  );
  const state = new FaultState(logger, initial);
  new Gauge({
    name: 'sluice_faults_active',
    help: 'Fault injection (faults.enabled): 1 while the named fault is on. Absent when fault injection is disabled.',
    labelNames: ['broker', 'fault'],
    registers: [registry],
    collect() {
      for (const fault of Object.keys(NO_FAULTS) as (keyof Faults)[])
        this.set({ broker, fault }, state.faults[fault] !== NO_FAULTS[fault] ? 1 : 0);
    },
  });
  return {
    state,
    handlerWrapper: withHandlerFaults(state, signal),
    wrapSource: (source) => withSlowCommits(source, state),
    route: faultRoute(state),
  };
}
