// The faults the drill injects, each with the alert meant to page for it (issue #13 item 4).
// A fault's start is the moment `inject` is called; its end is the moment `remove` resolves
// (for a broker restart: the broker serves again; for a consumer crash: Sluice was started again).
import type { DrillBroker } from './drill-brokers.ts';
import type { SluiceChild, SteadyProducer } from './load.ts';

export interface FaultContext {
  broker: DrillBroker;
  sluice: SluiceChild;
  producer: SteadyProducer;
  steadyRate: number;
}

export interface DrillFault {
  id: string;
  title: string;
  /** The alert that should page for this fault (deploy/helm/sluice/files/prometheus-alerts.yaml). */
  intended: string;
  /** Why the fault does not apply to `broker`, or undefined when it does. */
  notApplicable?(broker: DrillBroker): string | undefined;
  inject(context: FaultContext): Promise<void>;
  remove(context: FaultContext): Promise<void>;
}

export const FAULTS: readonly DrillFault[] = [
  {
    id: 'unreachable',
    title: 'broker unreachable (toxiproxy cut)',
    // The source cannot fetch: the oldest unfinished event ages (the broker-side lag) and
    // nothing is committed; readiness drops only where the adapter notices the disconnection.
    intended: 'SluiceNotReady',
    inject: ({ broker }) => broker.setReachable(false),
    remove: ({ broker }) => broker.setReachable(true),
  },
  {
    id: 'restart',
    title: 'broker restart (stop, start on the same storage)',
    intended: 'SluiceNotReady',
    notApplicable: (broker) => (broker.restart ? undefined : broker.restartNa),
    inject: async ({ broker }) => broker.restart!.stop(),
    remove: async ({ broker }) => broker.restart!.start(),
  },
  {
    id: 'latency',
    title: '500 ms network latency (toxiproxy latency toxic)',
    intended: 'SluiceLagHigh',
    inject: ({ broker }) => broker.setLatency(500),
    remove: ({ broker }) => broker.setLatency(0),
  },
  {
    id: 'handler-errors',
    title: 'handler failing 20% (PUT /faults handlerErrorRate 0.2)',
    intended: 'SluiceErrorRatioHigh',
    inject: ({ sluice }) => sluice.setFaults({ handlerErrorRate: 0.2 }),
    remove: ({ sluice }) => sluice.setFaults(null),
  },
  {
    id: 'handler-stall',
    title: 'handler stalled (PUT /faults handlerStall)',
    intended: 'SluiceStalled',
    inject: ({ sluice }) => sluice.setFaults({ handlerStall: true }),
    remove: ({ sluice }) => sluice.setFaults(null),
  },
  {
    id: 'crash',
    title: 'consumer crash (SIGKILL; ends when Sluice is started again)',
    intended: 'SluiceDown',
    inject: ({ sluice }) => sluice.kill(),
    remove: async ({ sluice }) => sluice.spawn(),
  },
  {
    id: 'overload',
    title: 'overload 10x (producer rate x10)',
    intended: 'SluiceQueueSaturated',
    inject: async ({ producer, steadyRate }) => {
      producer.rate = steadyRate * 10;
    },
    remove: async ({ producer, steadyRate }) => {
      producer.rate = steadyRate;
    },
  },
];

/** `--faults a,b`: the named faults, in catalogue order; throws naming an unknown one. */
export function selectFaults(list: string | undefined): DrillFault[] {
  if (!list) return [...FAULTS];
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !FAULTS.some((fault) => fault.id === name));
  if (unknown.length > 0) throw new Error(`--faults: unknown ${unknown.join(', ')} (known: ${FAULTS.map((f) => f.id).join(', ')})`);
  return FAULTS.filter((fault) => names.includes(fault.id));
}
