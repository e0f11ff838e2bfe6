// The drill's monitoring: a real Prometheus (scrape and evaluation every 5 s, the shipped rule
// file) and a real Alertmanager (group_wait 1 s, a webhook to the drill), both from Debian's
// packages (deploy/check/tools.ts), on 127.0.0.1, ports and data folders of their own under
// .sluice/drill/, started and stopped by pid.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { alertmanager, prometheusServer } from '../check/tools.ts';
import { repoRoot } from '../local/paths.ts';
import { groupRuns, type Launched, launchGroup, stopGroup } from '../local/process-group.ts';

export const RULES = join(repoRoot, 'deploy', 'helm', 'sluice', 'files', 'prometheus-alerts.yaml');
/** Alertmanager's wait before the first notification of a group (its default is 30 s). */
export const GROUP_WAIT = '1s';

export interface MonitoringPorts {
  prometheus: number;
  alertmanager: number;
  /** The drill's webhook receiver (webhook.ts). */
  webhook: number;
}

/** A Sluice metrics endpoint Prometheus scrapes as job="sluice", with labels naming the run. */
export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Monitoring {
  private readonly launched: { name: string; process: Launched; binary: string }[] = [];
  private readonly targetsFile: string;
  private readonly targets = new Map<string, ScrapeTarget>();

  constructor(
    private readonly dir: string,
    readonly ports: MonitoringPorts,
  ) {
    this.targetsFile = join(dir, 'sluice-targets.json');
  }

  get prometheusUrl(): string {
    return `http://127.0.0.1:${this.ports.prometheus}`;
  }

  /** Installs (first time) and starts Alertmanager, then Prometheus; resolves when both answer. */
  async start(): Promise<void> {
    const [promBin, amBin] = [prometheusServer(), alertmanager()];
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    this.setTarget('', undefined);
    const amConfig = join(this.dir, 'alertmanager.yml');
    writeFileSync(
      amConfig,
      stringify({
        // Every alert a group of its own ('...'), so each one is notified on its own, 1 s after it
        // reaches Alertmanager (group_wait), and its resolution 1 s after that (group_interval).
        route: { receiver: 'drill', group_by: ['...'], group_wait: GROUP_WAIT, group_interval: '1s', repeat_interval: '1h' },
        receivers: [{ name: 'drill', webhook_configs: [{ url: `http://127.0.0.1:${this.ports.webhook}/alerts`, send_resolved: true }] }],
      }),
    );
    this.launch('alertmanager', amBin, [
      `--config.file=${amConfig}`,
      `--storage.path=${join(this.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${this.ports.alertmanager}`,
      '--cluster.listen-address=', // no gossip port: a single instance
    ]);
    const promConfig = join(this.dir, 'prometheus.yml');
    writeFileSync(
      promConfig,
      stringify({
        global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s' },
        rule_files: [RULES],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${this.ports.alertmanager}`] }] }] },
        scrape_configs: [{ job_name: 'sluice', file_sd_configs: [{ files: [this.targetsFile], refresh_interval: '5s' }] }],
      }),
    );
    this.launch('prometheus', promBin, [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(this.dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${this.ports.prometheus}`,
    ]);
    await this.waitReady(`http://127.0.0.1:${this.ports.alertmanager}/-/ready`, 'alertmanager');
    await this.waitReady(`${this.prometheusUrl}/-/ready`, 'prometheus');
  }

  /**
   * Adds (or, with `undefined`, removes) the target of run `id`. Runs in parallel lanes each have
   * one; file-based discovery picks the change up within seconds.
   */
  setTarget(id: string, target: ScrapeTarget | undefined): void {
    if (target) this.targets.set(id, target);
    else this.targets.delete(id);
    const groups = [...this.targets.values()].map((t) => ({ targets: [t.address], labels: t.labels }));
    // Written aside and renamed, so Prometheus never reads a half-written file.
    writeFileSync(`${this.targetsFile}.tmp`, JSON.stringify(groups));
    renameSync(`${this.targetsFile}.tmp`, this.targetsFile);
  }

  /** An instant query's first value, or undefined when the result is empty. */
  async query(expr: string): Promise<number | undefined> {
    const res = await fetch(`${this.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { result: { value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`prometheus query ${expr}: ${body.error ?? res.status}`);
    const first = body.data?.result[0];
    return first ? Number(first.value[1]) : undefined;
  }

  /** Names of the alerts Prometheus has pending or firing whose labels include `labels`. */
  async activeAlerts(labels: Record<string, string>): Promise<string[]> {
    const res = await fetch(`${this.prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    return body.data.alerts
      .filter((alert) => Object.entries(labels).every(([key, value]) => alert.labels[key] === value))
      .map((alert) => `${alert.labels.alertname}(${alert.state})`);
  }

  /** Stops Prometheus and Alertmanager by their process groups. */
  async stop(): Promise<void> {
    for (const { process, binary } of this.launched.splice(0).reverse()) {
      if (groupRuns(process.pgid, binary)) await stopGroup(process.pgid, 5_000);
    }
  }

  private launch(name: string, binary: string, args: string[]): void {
    // Alertmanager finds its templates relative to its folder (deploy/check/tools.ts).
    const process = launchGroup({ command: binary, args, cwd: dirname(binary) }, join(this.dir, 'logs', `${name}.log`));
    this.launched.push({ name, process, binary: name });
  }

  private async waitReady(url: string, name: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const entry = this.launched.find((launched) => launched.name === name);
      const exit = entry?.process.exited();
      if (exit)
        throw new Error(`${name} exited (${exit.code ?? exit.signal}) while starting; see ${join(this.dir, 'logs', `${name}.log`)}`);
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} within 60 s`);
      await sleep(200);
    }
  }
}
