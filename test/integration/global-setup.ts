// Integration global setup: the brokers the integration tests need, through the same code as
// `npm run brokers:up`. Brokers already answering are reused and left alone; the ones started
// here are stopped at teardown (set SLUICE_BROKERS_KEEP=1 to leave them running for the
// next run). SLUICE_BROKERS=kafka,pubsub restricts the set (default: all; `none`: none).
//
// In CI (CI=true) a broker that cannot start fails the run here, with its log tail.
// Elsewhere the failure is printed and the suites that need that broker are skipped.
import type { TestProject } from 'vitest/node';
import { brokersDown, brokersUp, type UpOutcome } from '../../deploy/local/broker-manager.ts';
import { parseBrokerList, type BrokerName } from '../../deploy/local/endpoints.ts';
import type { BrokerAvailabilityMap } from './brokers.ts';

const log = (msg: string) => console.error(`[brokers] ${msg}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const inCI = process.env.CI === 'true';
  const wanted = parseBrokerList(process.env.SLUICE_BROKERS);
  const t0 = Date.now();
  const outcomes = wanted.length > 0 ? await brokersUp(wanted, log) : [];
  const started = outcomes.filter((o) => o.state === 'started').map((o) => o.name);

  const availability: BrokerAvailabilityMap = {};
  for (const o of outcomes) {
    availability[o.name] = describeOutcome(o);
    if (o.state !== 'failed') Object.assign(process.env, o.endpoint.env);
  }
  for (const o of outcomes) log(summary(o));
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

  const failed = outcomes.filter((o): o is Extract<UpOutcome, { state: 'failed' }> => o.state === 'failed');
  if (failed.length > 0) {
    const report = failed
      .map((f) => `${f.name}: ${f.reason}${f.logTail ? `\n--- ${f.log} (last lines) ---\n${f.logTail}` : ''}`)
      .join('\n\n');
    if (inCI) {
      await stop(started);
      throw new Error(`integration brokers failed to start (CI=true):\n\n${report}`);
    }
    console.warn(`[brokers] WARNING: suites that need ${failed.map((f) => f.name).join(', ')} will be skipped:\n\n${report}`);
  }

  project.provide('sluiceBrokers', availability);
  return async () => {
    if (process.env.SLUICE_BROKERS_KEEP === '1') {
      if (started.length > 0) log(`SLUICE_BROKERS_KEEP=1: leaving ${started.join(', ')} running (npm run brokers:down stops them)`);
      return;
    }
    await stop(started);
  };
}

async function stop(names: BrokerName[]): Promise<void> {
  if (names.length === 0) return;
  for (const d of await brokersDown(names, log)) log(`${d.name}: ${d.result} in ${(d.ms / 1000).toFixed(1)}s`);
}

function describeOutcome(o: UpOutcome): BrokerAvailabilityMap[BrokerName] {
  if (o.state === 'failed') return { available: false, reason: o.reason, ...(o.logTail ? { logTail: o.logTail } : {}) };
  return { available: true, endpoint: o.endpoint, startedBySetup: o.state === 'started' };
}

function summary(o: UpOutcome): string {
  if (o.state === 'failed') return `${o.name}: FAILED ${o.reason}`;
  const how = o.state === 'started' ? `started in ${(o.ms / 1000).toFixed(1)}s` : 'already running, reused';
  return `${o.name}: ${o.endpoint.address} ${how}`;
}
