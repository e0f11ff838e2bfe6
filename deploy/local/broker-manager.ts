// Bring local brokers up, down, or report on them. Shared by the `brokers:*` npm scripts and
// the vitest integration global setup, so both agree on what "running" means:
//  - `up` reuses a broker that already answers (whoever started it), otherwise launches it
//    in its own process group, records the group id in .sluice/brokers/<name>.pid and waits
//    until it answers a real request;
//  - `down` signals only groups recorded in those pid files, never a broker it did not start.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { BROKERS, type BrokerSpec } from './broker-specs.ts';
import { ENDPOINTS, LOCAL_HOST, type BrokerEndpoint, type BrokerName } from './endpoints.ts';
import { portTaken } from './health-checks.ts';
import { PrerequisiteMissing } from './kafka-dist.ts';
import { withFileLock } from './lock.ts';
import { lockFile, logFile, logsDir, pidFile, stateDir } from './paths.ts';
import { groupMembers, groupRuns, launchGroup, stopGroup } from './process-group.ts';

export type Logger = (msg: string) => void;
const defaultLog: Logger = (msg) => console.error(`[brokers] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type UpOutcome =
  | { name: BrokerName; state: 'reused'; endpoint: BrokerEndpoint; pid?: number; detail: string }
  | { name: BrokerName; state: 'started'; endpoint: BrokerEndpoint; pid: number; ms: number; detail: string }
  | { name: BrokerName; state: 'failed'; reason: string; missingPrerequisite: boolean; logTail: string; log: string };

export interface BrokerStatus {
  name: BrokerName;
  title: string;
  address: string;
  health: 'healthy' | 'unhealthy' | 'stopped' | 'port-taken';
  detail: string;
  /** Pid (= process group) recorded by `up`, if that group is still alive. */
  pid?: number;
}

/** Last `lines` lines of a broker's log, for failure reports. */
export function logTail(name: BrokerName, lines = 40): string {
  try {
    return readFileSync(logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Process group recorded for `name` if it is alive and still runs that broker. */
export function recordedPid(spec: BrokerSpec): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(spec.name), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (Number.isInteger(pid) && pid > 1 && groupRuns(pid, spec.marker)) return pid;
  rmSync(pidFile(spec.name), { force: true }); // stale: the group is gone or the pid was reused
  return undefined;
}

async function probe(spec: BrokerSpec): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
  try {
    return { ok: true, detail: await spec.health() };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

/** Exclusive per-broker lock so that two `up`s (a shell and a test run) never race. */
function withLock<T>(name: BrokerName, waitMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true });
  return withFileLock(lockFile(name), { waitMs, what: name }, fn);
}

async function upOne(spec: BrokerSpec, log: Logger): Promise<UpOutcome> {
  const endpoint = ENDPOINTS[spec.name];
  // The log tail is shown only for a broker launched in this attempt: an older log would mislead.
  let launchedNow = false;
  const failed = (reason: string, missingPrerequisite = false): UpOutcome => ({
    name: spec.name,
    state: 'failed',
    reason,
    missingPrerequisite,
    logTail: launchedNow ? logTail(spec.name) : '',
    log: logFile(spec.name),
  });

  const first = await probe(spec);
  if (first.ok) {
    const pid = recordedPid(spec);
    return { name: spec.name, state: 'reused', endpoint, pid, detail: first.detail };
  }
  // A group we started earlier that does not answer (yet): give it the start timeout, then
  // replace it. Something else on our ports is not ours to touch.
  const stale = recordedPid(spec);
  if (stale !== undefined) {
    log(`${spec.name}: pid ${stale} from an earlier run does not answer yet; waiting`);
    const ready = await waitHealthy(spec, spec.startTimeoutMs, () => groupMembers(stale).length === 0);
    if (ready.ok) return { name: spec.name, state: 'reused', endpoint, pid: stale, detail: ready.detail };
    log(`${spec.name}: pid ${stale} never became healthy (${ready.detail}); restarting it`);
    await stopGroup(stale, spec.stopGraceMs);
    rmSync(pidFile(spec.name), { force: true });
  }
  for (const port of spec.ports) {
    if (!(await portTaken(LOCAL_HOST, port))) continue;
    // Maybe the same broker being started by someone else (another checkout's test run).
    log(`${spec.name}: port ${port} is taken but does not answer yet; waiting`);
    const ready = await waitHealthy(spec, spec.startTimeoutMs, () => false);
    if (ready.ok) return { name: spec.name, state: 'reused', endpoint, detail: ready.detail };
    return failed(`port ${LOCAL_HOST}:${port} is taken by another process that is not a healthy ${spec.name} (${ready.detail})`);
  }

  const started = Date.now();
  let command: Awaited<ReturnType<typeof spec.prepare>>;
  try {
    command = await spec.prepare(log);
  } catch (err) {
    return failed((err as Error).message, err instanceof PrerequisiteMissing);
  }
  mkdirSync(logsDir, { recursive: true });
  const launched = launchGroup(command, logFile(spec.name));
  launchedNow = true;
  writeFileSync(pidFile(spec.name), `${launched.pgid}\n`);
  log(`${spec.name}: launched ${spec.title} as pid ${launched.pgid}, waiting for it to answer`);
  const ready = await waitHealthy(spec, spec.startTimeoutMs, () => launched.exited() !== undefined);
  if (!ready.ok) {
    const exit = launched.exited();
    await stopGroup(launched.pgid, spec.stopGraceMs).catch(() => undefined);
    rmSync(pidFile(spec.name), { force: true });
    // Lost a race for the port to a concurrent start elsewhere? Then use the winner.
    if (exit && (await anyPortTaken(spec))) {
      const other = await waitHealthy(spec, spec.startTimeoutMs, () => false);
      if (other.ok) return { name: spec.name, state: 'reused', endpoint, detail: other.detail };
    }
    const why = exit
      ? `exited (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'}) before answering`
      : `did not answer within ${spec.startTimeoutMs / 1000}s (${ready.detail})`;
    return failed(`${spec.name} ${why}`);
  }
  return {
    name: spec.name,
    state: 'started',
    endpoint,
    pid: launched.pgid,
    ms: Date.now() - started,
    detail: ready.detail,
  };
}

async function anyPortTaken(spec: BrokerSpec): Promise<boolean> {
  for (const port of spec.ports) if (await portTaken(LOCAL_HOST, port)) return true;
  return false;
}

async function waitHealthy(spec: BrokerSpec, timeoutMs: number, died: () => boolean): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not probed';
  while (Date.now() < deadline) {
    if (died()) return { ok: false, detail: 'process exited' };
    const res = await probe(spec);
    if (res.ok) return res;
    last = res.detail;
    await sleep(300);
  }
  return { ok: false, detail: last };
}

/** Starts (or reuses) the named brokers, concurrently; never throws for one broker's failure. */
export async function brokersUp(names: BrokerName[], log: Logger = defaultLog): Promise<UpOutcome[]> {
  return Promise.all(
    names.map((name) => {
      const spec = BROKERS[name];
      // The lock wait covers a concurrent cold Kafka download by another process.
      return withLock(name, 25 * 60_000, () => upOne(spec, log).then((outcome) => withLiveEndpoint(spec, outcome))).catch(
        (err): UpOutcome => ({
          name,
          state: 'failed',
          reason: (err as Error).message,
          missingPrerequisite: false,
          logTail: logTail(name),
          log: logFile(name),
        }),
      );
    }),
  );
}

/** A healthy broker's endpoint as it runs (Kafka: with its SASL_SSL listener, if that answers). */
async function withLiveEndpoint(spec: BrokerSpec, outcome: UpOutcome): Promise<UpOutcome> {
  if (outcome.state === 'failed' || !spec.endpoint) return outcome;
  return { ...outcome, endpoint: await spec.endpoint() };
}

export interface DownOutcome {
  name: BrokerName;
  result: 'not-started-by-sluice' | 'not-running' | 'terminated' | 'killed' | 'failed';
  pid?: number;
  ms: number;
  error?: string;
}

/** Stops the named brokers if, and only if, a pid file says Sluice started them. */
export async function brokersDown(names: BrokerName[], log: Logger = defaultLog): Promise<DownOutcome[]> {
  return Promise.all(
    names.map((name) =>
      withLock(name, 60_000, async (): Promise<DownOutcome> => {
        const spec = BROKERS[name];
        const started = Date.now();
        const pid = recordedPid(spec);
        if (pid === undefined) return { name, result: 'not-started-by-sluice', ms: 0 };
        log(`${name}: stopping process group ${pid}`);
        const result = await stopGroup(pid, spec.stopGraceMs);
        rmSync(pidFile(name), { force: true });
        return { name, result, pid, ms: Date.now() - started };
      }).catch((err): DownOutcome => ({ name, result: 'failed', ms: 0, error: (err as Error).message })),
    ),
  );
}

export async function brokersStatus(names: BrokerName[]): Promise<BrokerStatus[]> {
  return Promise.all(
    names.map(async (name): Promise<BrokerStatus> => {
      const spec = BROKERS[name];
      const base = { name, title: spec.title, address: ENDPOINTS[name].address };
      const pid = recordedPid(spec);
      const res = await probe(spec);
      if (res.ok) return { ...base, health: 'healthy', detail: res.detail, pid };
      if (pid !== undefined) return { ...base, health: 'unhealthy', detail: res.detail, pid };
      for (const port of spec.ports) {
        if (await portTaken(LOCAL_HOST, port)) {
          return { ...base, health: 'port-taken', detail: `port ${port} answers but not as ${name}: ${res.detail}` };
        }
      }
      return { ...base, health: 'stopped', detail: existsSync(pidFile(name)) ? 'stale pid file' : 'not running' };
    }),
  );
}
