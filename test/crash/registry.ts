// The crash-restart harness's scenarios, in the order the table lists them. A scenario is an
// async function returning rows (scenario.ts); adding one is one line here.
import type { BrokerName } from '../../deploy/local/endpoints.ts';
import type { ScenarioRow } from './scenario.ts';
import { handoffScenario } from './handoff.ts';
import { outageScenario } from './outage.ts';
import { resumeScenario } from './resume.ts';
import { sigkillScenario } from './sigkill.ts';

/** What a scenario is given by the runner (test/crash/run.ts) or a test. */
export interface ScenarioContext {
  /** CI sizes: the whole harness within a few minutes. */
  quick: boolean;
  /** Whether the row (scenario, broker label) was asked for (`--only`); skip the others before setting anything up. */
  wants(scenario: string, broker: string): boolean;
  /** A scratch folder for configs, records and audit files. */
  dir: string;
  /** How to start sluice (default: the sources through tsx; the runner uses the compiled CLI). */
  entry?: readonly string[];
  /** Progress lines (stderr). */
  log(line: string): void;
}

export interface ScenarioEntry {
  /** For --only and the log. */
  name: string;
  /** The local brokers (deploy/local) its rows may need; the runner starts those not running. */
  brokers: BrokerName[];
  run(context: ScenarioContext): Promise<ScenarioRow[]>;
}

export const SCENARIOS: ScenarioEntry[] = [
  { name: 'sigkill x3', brokers: ['kafka', 'kinesis', 'dynamodb', 'pubsub', 'pstest'], run: sigkillScenario },
  { name: 'sigkill resume', brokers: ['kafka', 'kinesis', 'dynamodb', 'pubsub', 'pstest'], run: resumeScenario },
  { name: 'broker outage', brokers: ['kafka', 'kinesis', 'dynamodb', 'pubsub'], run: outageScenario },
  { name: 'sigterm handoff', brokers: ['kafka', 'kinesis', 'dynamodb', 'pubsub'], run: handoffScenario },
];
