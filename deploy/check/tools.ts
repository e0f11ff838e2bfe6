// The tools `npm run deploy:check` runs, installed on first use into the per-user cache
// (~/.cache/sluice/<tool>-<version>/, or $SLUICE_CACHE_DIR), so a second run installs nothing.
// helm is built from its Go module (the Go module proxy is reachable where GitHub releases may
// not be); promtool, and for the drill (deploy/drill) Prometheus and Alertmanager, are taken from
// Debian's packages without installing them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** Upstream Alertmanager version of Debian 12's prometheus-alertmanager package. */
export const ALERTMANAGER_VERSION = '0.25.0';

/**
 * Binaries taken from a Debian package without installing it (apt-get download, dpkg-deb -x; an
 * `apt-get update` first if apt does not know the version yet), copied into
 * `<cache>/<name>-<version>/`. CI runs as root on a fresh machine; nothing lands in /usr.
 * `files` maps a path inside the package to the binary's name in the cache folder.
 */
function debianBinaries(
  pkg: string,
  version: string,
  name: string,
  files: Record<string, string>,
  finish: (root: string, dir: string) => void = () => undefined,
): Record<string, string> {
  const dir = join(cacheDir, `${name}-${version}`);
  const binaries = Object.fromEntries(Object.values(files).map((binary) => [binary, join(dir, binary)]));
  if (Object.values(binaries).every((binary) => existsSync(binary))) return binaries;
  const candidate = () => /Candidate:\s*(\S+)/.exec(run('apt-cache', ['policy', pkg]))?.[1] ?? '(none)';
  let found = candidate();
  if (!found.startsWith(version)) {
    console.log(`  apt-get update (no ${pkg} ${version} package known yet)`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    found = candidate();
  }
  if (!found.startsWith(version)) {
    throw new Error(`apt offers ${pkg} ${found}, not ${version}: update the version in deploy/check/tools.ts`);
  }
  console.log(`  installing ${Object.keys(binaries).join(', ')} from Debian ${pkg} ${found}`);
  const work = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  try {
    // Downloading into a private temporary directory: apt's _apt sandbox user could not write there.
    run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', `${pkg}=${found}`], work);
    const deb = readdirSync(work).find((file) => file.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    run('dpkg-deb', ['-x', deb, 'root'], work);
    mkdirSync(dir, { recursive: true });
    for (const [inside, binary] of Object.entries(files)) {
      copyFileSync(join(work, 'root', inside), binaries[binary]!);
      chmodSync(binaries[binary]!, 0o755);
    }
    finish(join(work, 'root'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binaries;
}

/** promtool, from Debian's prometheus package (the server is not installed). */
export function promtool(): string {
  return debianBinaries('prometheus', PROMTOOL_VERSION, 'promtool', { 'usr/bin/promtool': 'promtool' }).promtool!;
}

/** The Prometheus server, from Debian's prometheus package, for the drill (deploy/drill). */
export function prometheusServer(): string {
  return debianBinaries('prometheus', PROMTOOL_VERSION, 'prometheus', { 'usr/bin/prometheus': 'prometheus' }).prometheus!;
}

/**
 * Alertmanager, from Debian's prometheus-alertmanager package, for the drill (deploy/drill).
 * **Run it with its folder as the working directory.** Debian's build reads its default
 * notification template from /usr/share/prometheus/alertmanager/ (upstream embeds it) and has no
 * flag to move it; rather than writing into /usr, the package's share folder is copied next to
 * the binary and the path in the binary is rewritten to a relative one of the same length
 * (`/usr/share/…` → `.////share/…`), a change Go's string headers allow since the length is kept.
 */
export function alertmanager(): string {
  const absolute = Buffer.from('/usr/share/prometheus/alertmanager');
  const relative = Buffer.from('.////share/prometheus/alertmanager'); // the same 34 bytes
  return debianBinaries(
    'prometheus-alertmanager',
    ALERTMANAGER_VERSION,
    'alertmanager',
    { 'usr/bin/prometheus-alertmanager': 'alertmanager' },
    (root, dir) => {
      cpSync(join(root, 'usr', 'share', 'prometheus', 'alertmanager'), join(dir, 'share', 'prometheus', 'alertmanager'), {
        recursive: true,
      });
      const binary = join(dir, 'alertmanager');
      const bytes = readFileSync(binary);
      let patched = 0;
      for (let at = bytes.indexOf(absolute); at >= 0; at = bytes.indexOf(absolute, at + 1)) {
        relative.copy(bytes, at);
        patched++;
      }
      if (patched === 0)
        throw new Error('alertmanager: /usr/share/prometheus/alertmanager not found in the binary; see deploy/check/tools.ts');
      writeFileSync(binary, bytes);
    },
  ).alertmanager!;
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
