// Steady load for the drill: a producer that publishes `{"n": <sequence>}` events at a set rate
// through the project's publishers, and the `sluice run` child with the acceptance tests'
// recording handler (test/integration/crash-restart.ts), metrics on a port of its own and fault
// injection enabled.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { processedNumbers, runSluice, writeRecordingConfig } from '../../test/crash/sluice-child.ts';
import type { BrokerRun } from './drill-brokers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MS = 100;
const MAX_BATCH = 500;

/**
 * Publishes at `rate` events/s. A batch that fails (the broker is unreachable) is kept and sent
 * again, ahead of the new ones, until the broker confirms it: every number in {@link confirmed}
 * is an event the broker acknowledged, which is what "0 lost" is checked against.
 */
export class SteadyProducer {
  readonly confirmed: number[] = [];
  private readonly pending: number[] = [];
  private next = 0;
  private credit = 0;
  private timer: NodeJS.Timeout | undefined;
  private pump: Promise<void> | undefined;
  private stopping = false;
  failures = 0;
  /** Events the broker never confirmed by the time {@link stop} gave up (not counted as published). */
  unconfirmed = 0;

  constructor(
    private readonly run: BrokerRun,
    public rate: number,
    private readonly log: (msg: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.credit += (this.rate * TICK_MS) / 1000;
      while (this.credit >= 1) {
        this.pending.push(this.next++);
        this.credit -= 1;
      }
      this.pump ??= this.publishPending().finally(() => (this.pump = undefined));
    }, TICK_MS);
  }

  /** Stops producing new events and waits (up to `timeoutMs`) until the pending ones are confirmed. */
  async stop(timeoutMs = 120_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.length > 0 || this.pump) && Date.now() < deadline) {
      this.pump ??= this.publishPending().finally(() => (this.pump = undefined));
      await sleep(100);
    }
    this.stopping = true;
    if (this.pending.length > 0 && this.pending.length !== this.unconfirmed)
      this.log(`producer: ${this.pending.length} events never confirmed (not counted as published)`);
    this.unconfirmed = this.pending.length;
  }

  private async publishPending(): Promise<void> {
    while (this.pending.length > 0 && !this.stopping) {
      const batch = this.pending.slice(0, MAX_BATCH);
      try {
        await this.run.publisher.publish(
          this.run.destination,
          batch.map((n) => ({ key: `key-${n % 16}`, payload: Buffer.from(JSON.stringify({ n })) })),
        );
        this.pending.splice(0, batch.length);
        this.confirmed.push(...batch);
      } catch (error) {
        if (this.failures++ % 20 === 0) this.log(`producer: publish failed (${(error as Error).message.slice(0, 120)}); retrying`);
        await sleep(500);
      }
    }
  }
}

export interface SluiceChildOptions {
  dir: string;
  name: string;
  run: BrokerRun;
  metricsPort: number;
  /** The recording handler's time per event (SLUICE_TEST_DELAY_MS). */
  handlerMs: number;
  queue: number;
  pool: number;
  children: Set<ChildProcess>;
}

/** The `sluice run` child of one drill run; {@link restart} starts it again on the same port. */
export class SluiceChild {
  readonly out: string;
  private child: ChildProcess | undefined;
  private configPath = '';

  constructor(private readonly options: SluiceChildOptions) {
    this.out = join(options.dir, `${options.name}.processed.txt`);
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.options.metricsPort}`;
  }

  async start(): Promise<void> {
    const { dir, name, run, metricsPort, queue, pool } = this.options;
    this.configPath = await writeRecordingConfig(dir, name, {
      broker: run.sluiceBroker,
      queue: { maxEvents: queue },
      pool: { size: pool },
      deadLetter: { type: 'none' },
      metrics: { enabled: true, host: '127.0.0.1', port: metricsPort },
      faults: { enabled: true },
      log: { level: 'warn', summaryIntervalMs: 0 },
    });
    this.spawn();
    await this.waitReady(120_000);
  }

  /** Spawns the child again with the same config (after {@link kill}). */
  spawn(): void {
    this.child = runSluice(this.configPath, this.out, {
      env: { SLUICE_TEST_DELAY_MS: String(this.options.handlerMs), ...this.options.run.env },
      children: this.options.children,
    });
  }

  /** SIGKILL: no graceful close, no final commit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 40_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.options.children.delete(child);
  }

  /** Sets faults through `PUT /faults` ({} of Faults fields) or clears them all (`null`). */
  async setFaults(faults: Record<string, unknown> | null): Promise<void> {
    const res = await fetch(`${this.metricsUrl}/faults`, {
      method: faults ? 'PUT' : 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: faults ? JSON.stringify(faults) : undefined,
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`${faults ? 'PUT' : 'DELETE'} /faults: HTTP ${res.status} ${await res.text()}`);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null))
        throw new Error(`sluice child exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready`);
      try {
        if ((await fetch(`${this.metricsUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`sluice not ready on ${this.metricsUrl}/readyz within ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  /** What the handler recorded: distinct numbers seen, and every line (duplicates included). */
  async recorded(): Promise<{ all: number[]; seen: Set<number> }> {
    const all = await processedNumbers(this.out);
    return { all, seen: new Set(all) };
  }
}
