// Toxiproxy (Shopify's TCP proxy for fault injection) for the local stack: tests put it between
// Sluice and a broker whose emulator cannot be restarted without losing its data (kinesalite,
// dynalite and the Pub/Sub emulator keep everything in memory), and cut or degrade the link
// instead. Built from its Go module on first use (the Go module proxy is reachable where release
// downloads may not be) into ~/.cache/sluice/toxiproxy-<version>/, started and stopped by pid,
// driven over its HTTP API with plain fetch.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, logsDir } from './paths.ts';
import { groupRuns, type Launched, launchGroup, stopGroup } from './process-group.ts';

/** The newest version the Go module proxy serves (`go list -m -versions github.com/Shopify/toxiproxy/v2`). */
export const TOXIPROXY_VERSION = process.env.SLUICE_TOXIPROXY_VERSION ?? 'v2.5.0';
const MODULE = 'github.com/Shopify/toxiproxy/v2';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The toxiproxy server binary, built with `go install` into the cache unless already there
 * (about a minute on a cold Go cache). Concurrent builds are safe: each builds into a folder of
 * its own and renames the binary into place.
 */
export function toxiproxyServer(log: (msg: string) => void = () => undefined): string {
  const dir = join(cacheDir, `toxiproxy-${TOXIPROXY_VERSION}`);
  const binary = join(dir, 'toxiproxy-server');
  if (existsSync(binary)) return binary;
  const staging = join(dir, `.build-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  log(`toxiproxy: building ${MODULE}/cmd/server@${TOXIPROXY_VERSION} with go install (once per machine)`);
  const started = Date.now();
  try {
    execFileSync(go, ['install', `${MODULE}/cmd/server@${TOXIPROXY_VERSION}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    renameSync(join(staging, 'server'), binary);
  } catch (error) {
    throw new Error(`could not build toxiproxy ${TOXIPROXY_VERSION} (is Go on PATH?): ${String(error)}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`toxiproxy: built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${binary}`);
  return binary;
}

export interface ProxySpec {
  name: string;
  /** `127.0.0.1:<port>` the proxy listens on. */
  listen: string;
  /** `127.0.0.1:<port>` of the real server. */
  upstream: string;
}

/** A toxiproxy server of a test's own (its API on `apiPort`), and the proxies it creates. */
export class Toxiproxy {
  private launched: Launched | undefined;

  constructor(
    readonly apiPort: number,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  get api(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get pid(): number | undefined {
    return this.launched?.pgid;
  }

  /** Builds (first time), starts the server and waits until its API answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    const binary = toxiproxyServer(this.log);
    mkdirSync(logsDir, { recursive: true });
    const logFile = join(logsDir, `toxiproxy-${this.apiPort}.log`);
    this.launched = launchGroup({ command: binary, args: ['-host', '127.0.0.1', '-port', String(this.apiPort)] }, logFile);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = this.launched.exited();
      if (exit) throw new Error(`toxiproxy exited (${exit.code ?? exit.signal}) while starting; see ${logFile}`);
      try {
        const res = await fetch(`${this.api}/version`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`toxiproxy API not answering on ${this.api} within ${timeoutMs} ms; see ${logFile}`);
      await sleep(100);
    }
  }

  /** Stops the server by its process group (SIGTERM, SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const launched = this.launched;
    this.launched = undefined;
    if (launched && groupRuns(launched.pgid, 'toxiproxy-server')) await stopGroup(launched.pgid, 5_000);
  }

  /** Creates (or replaces) a proxy. */
  async createProxy(spec: ProxySpec): Promise<void> {
    await this.call('DELETE', `/proxies/${spec.name}`, undefined, [404]);
    await this.call('POST', '/proxies', { ...spec, enabled: true });
  }

  /**
   * Cuts (false) or restores (true) a proxy: disabled, it closes every open connection and refuses
   * new ones, as a broker that went away does to its clients.
   */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.call('POST', `/proxies/${name}`, { enabled });
  }

  /**
   * Adds a toxic (latency, bandwidth, timeout, reset_peer, …; see toxiproxy's README) to a proxy,
   * e.g. `{ type: 'timeout', attributes: { timeout: 0 } }` holds every connection open and silent.
   */
  async addToxic(
    proxy: string,
    toxic: { name: string; type: string; stream?: 'upstream' | 'downstream'; attributes: object },
  ): Promise<void> {
    await this.call('POST', `/proxies/${proxy}/toxics`, { stream: 'downstream', toxicity: 1, ...toxic });
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await this.call('DELETE', `/proxies/${proxy}/toxics/${name}`, undefined, [404]);
  }

  private async call(method: string, path: string, body?: object, tolerated: number[] = []): Promise<void> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok && !tolerated.includes(res.status)) {
      throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    }
  }
}
