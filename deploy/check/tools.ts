// The tools `npm run deploy:check` runs, installed on first use into the per-user cache
// (~/.cache/sluice/<tool>-<version>/, or $SLUICE_CACHE_DIR), so a second run installs nothing.
// helm is built from its Go module (the Go module proxy is reachable where GitHub releases may
// not be); promtool is taken from Debian's prometheus package without installing the server.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../local/paths.ts';

export const HELM_VERSION = 'v3.22.0';
/** Upstream Prometheus version of Debian 12's package (any Debian revision of it). */
export const PROMTOOL_VERSION = '2.42.0';

const run = (command: string, args: string[], cwd?: string): string =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** helm, built with `go install helm.sh/helm/v3/cmd/helm@HELM_VERSION` unless cached. */
export function helm(): string {
  const dir = join(cacheDir, `helm-${HELM_VERSION}`);
  const binary = join(dir, 'helm');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    console.log(`  installing helm ${HELM_VERSION} (go install; a few minutes on a cold Go cache)`);
    execFileSync('go', ['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false' },
      stdio: 'inherit',
    });
  }
  return binary;
}

/** promtool, extracted from Debian's prometheus .deb (apt-get download; apt-get update once if needed). */
export function promtool(): string {
  const dir = join(cacheDir, `promtool-${PROMTOOL_VERSION}`);
  const binary = join(dir, 'promtool');
  if (existsSync(binary)) return binary;
  const candidate = () => /Candidate:\s*(\S+)/.exec(run('apt-cache', ['policy', 'prometheus']))?.[1] ?? '(none)';
  let version = candidate();
  if (!version.startsWith(PROMTOOL_VERSION)) {
    console.log('  apt-get update (no prometheus package known yet)');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    version = candidate();
  }
  if (!version.startsWith(PROMTOOL_VERSION)) {
    throw new Error(`apt offers prometheus ${version}, not ${PROMTOOL_VERSION}: update PROMTOOL_VERSION in deploy/check/tools.ts`);
  }
  console.log(`  installing promtool from Debian prometheus ${version}`);
  const work = mkdtempSync(join(tmpdir(), 'sluice-promtool-'));
  try {
    // Downloading into a private temporary directory: apt's _apt sandbox user could not write there.
    run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', `prometheus=${version}`], work);
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download prometheus produced no .deb');
    run('dpkg-deb', ['-x', deb, 'root'], work);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(work, 'root', 'usr', 'bin', 'promtool'), binary);
    chmodSync(binary, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

/**
 * The manifest checker (deploy/check/validate), built into .sluice/bin under a hash of its sources:
 * linking it takes seconds even with Go's build cache warm, so an unchanged checker is not rebuilt.
 */
export function validator(repoRoot: string): string {
  const source = join(repoRoot, 'deploy', 'check', 'validate');
  const hash = createHash('sha256');
  for (const file of readdirSync(source).sort()) {
    if (/^go\.(mod|sum)$|(?<!_test)\.go$/.test(file)) hash.update(file).update(readFileSync(join(source, file)));
  }
  const binary = join(repoRoot, '.sluice', 'bin', `sluice-validate-${hash.digest('hex').slice(0, 12)}`);
  if (!existsSync(binary)) execFileSync('go', ['build', '-o', binary, '.'], { cwd: source, stdio: 'inherit' });
  return binary;
}
