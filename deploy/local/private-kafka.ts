// A Kafka node of a test's own, for fault injection (broker outage, issue #12; operability #13):
// the stack's broker (kafka-dist.ts) on other ports and in another folder, so a test can stop
// it by pid and start it again on the same storage while every other test keeps the shared one.
import { join } from 'node:path';
import { kafkaHealth } from './health-checks.ts';
import { type KafkaInstance, prepareKafka } from './kafka-dist.ts';
import { logsDir } from './paths.ts';
import { groupRuns, type Launched, launchGroup, stopGroup } from './process-group.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PrivateKafka {
  private launched: Launched | undefined;
  private starts = 0;

  constructor(
    readonly instance: KafkaInstance,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** Bootstrap list for clients. */
  get brokers(): string[] {
    return [`127.0.0.1:${this.instance.port}`];
  }

  /** The broker's process group id (its pid) while it runs. */
  get pid(): number | undefined {
    return this.launched?.pgid;
  }

  get logFile(): string {
    return join(logsDir, `${this.instance.name}.log`);
  }

  /**
   * Starts the broker (formatting the storage the first time) and resolves once it serves
   * metadata and group coordination. Each start appends to {@link logFile}'s successor
   * `<name>.<n>.log`, so a restart does not overwrite the first run's log.
   */
  async start(timeoutMs = 180_000): Promise<void> {
    if (this.launched && !this.launched.exited()) throw new Error(`${this.instance.name} already runs (pid ${this.launched.pgid})`);
    const command = await prepareKafka(this.log, this.instance);
    const log = this.starts++ === 0 ? this.logFile : this.logFile.replace(/\.log$/, `.${this.starts}.log`);
    const launched = launchGroup(command, log);
    this.launched = launched;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = launched.exited();
      if (exit) throw new Error(`${this.instance.name} exited (${exit.code ?? exit.signal}) while starting; see ${log}`);
      try {
        await kafkaHealth(this.brokers);
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`${this.instance.name} not healthy within ${timeoutMs} ms: ${String(error)}; see ${log}`);
      }
      await sleep(500);
    }
  }

  /**
   * Stops the broker by its process group: SIGTERM (a controlled shutdown) and SIGKILL after
   * `graceMs`. `graceMs: 0` kills at once, as a crashed host would.
   */
  async stop(graceMs = 10_000): Promise<'not-running' | 'terminated' | 'killed'> {
    const launched = this.launched;
    if (!launched) return 'not-running';
    this.launched = undefined;
    // Guard against a recycled pid: only a group still running kafka.Kafka is signalled.
    if (!groupRuns(launched.pgid, 'kafka.Kafka')) return 'not-running';
    if (graceMs === 0) {
      process.kill(-launched.pgid, 'SIGKILL');
      await stopGroup(launched.pgid, 5_000); // waits until the group is gone
      return 'killed';
    }
    return stopGroup(launched.pgid, graceMs);
  }
}
