// `npm run deploy:check`: the Helm chart checked with real tools. helm lint and helm template of
// every profile (rendered to .sluice/rendered/<profile>.yaml), every object decoded strictly into
// its Kubernetes / KEDA / Prometheus Operator Go type and held to its profile's promises
// (deploy/check/validate), promtool on the alert rules and their unit tests (alerts-test.ts), and the failures that must fail: bad
// values refused by the chart, a broken manifest refused by the checker.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../local/paths.ts';
import { testAlertRules } from './alerts-test.ts';
import { checkDashboardQueries } from './dashboard-check.ts';
import { validateRenderedConfig } from './rendered-config.ts';
import { HELM_VERSION, helm, PROMTOOL_VERSION, promtool, validator } from './tools.ts';

const chart = join(repoRoot, 'deploy', 'helm', 'sluice');
const renderedDir = join(repoRoot, '.sluice', 'rendered');
const NAMESPACE = 'sluice';
/** helm built from source defaults to Kubernetes 1.20; render for the version the checker's k8s.io/api (v0.37) describes. */
const KUBE_VERSION = '1.37.0';

interface Profile {
  name: string;
  /** Values files, relative to the repository root, in order. */
  values: string[];
  /** Flags of the checker (deploy/check/validate/assert.go). */
  expect: string[];
}

const profiles: Profile[] = [
  { name: 'default', values: [], expect: ['-autoscaler', 'none'] },
  { name: 'hpa', values: ['deploy/check/values-hpa.yaml'], expect: ['-autoscaler', 'hpa'] },
  { name: 'aws', values: ['deploy/aws/values-kinesis.yaml'], expect: ['-identity', 'aws', '-autoscaler', 'keda', '-monitoring'] },
  { name: 'gcp', values: ['deploy/gcp/values-pubsub.yaml'], expect: ['-identity', 'gcp', '-autoscaler', 'keda', '-monitoring'] },
  { name: 'kafka', values: ['deploy/kafka/values-kafka.yaml'], expect: ['-autoscaler', 'keda', '-monitoring'] },
  {
    name: 'http',
    values: ['deploy/http/values-http.yaml'],
    expect: ['-autoscaler', 'hpa', '-monitoring', '-ingest'],
  },
  {
    name: 'http-ingress',
    values: ['deploy/check/values-http-ingress.yaml'],
    expect: ['-autoscaler', 'hpa', '-ingest'],
  },
  {
    name: 'kafka-extras',
    values: ['deploy/kafka/values-kafka.yaml', 'deploy/check/values-extras.yaml'],
    expect: ['-autoscaler', 'keda', '-monitoring'],
  },
];

/** Values the chart must refuse, and the words its message must contain. */
const mustFail: { why: string; set: string[]; message: RegExp }[] = [
  {
    why: 'grace period not above the drain time',
    set: ['terminationGracePeriodSeconds=30'],
    message: /must be above config\.shutdown\.timeoutMs/,
  },
  {
    why: 'KEDA and HPA together',
    set: ['autoscaling.keda.enabled=true', 'autoscaling.hpa.enabled=true'],
    message: /both true/,
  },
  {
    why: 'scale to zero on the lag trigger alone',
    set: ['autoscaling.keda.enabled=true', 'autoscaling.minReplicas=0'],
    message: /would never scale up again/,
  },
  {
    why: 'metrics server on loopback (unreachable by probes)',
    set: ['config.metrics.host=127.0.0.1'],
    message: /loopback/,
  },
  {
    why: 'SASL password env without a secret',
    set: [
      'config.broker.type=kafka',
      'config.broker.kafka.sasl.mechanism=plain',
      'config.broker.kafka.sasl.username=u',
      'config.broker.kafka.sasl.passwordEnv=KAFKA_PASSWORD',
    ],
    message: /no secretEnv entry provides it/,
  },
  {
    why: 'HTTP tokens env without a secret',
    set: ['config.broker.type=http', 'config.broker.http.auth.tokensEnv=INGEST_TOKENS'],
    message: /no secretEnv entry provides it/,
  },
  {
    why: 'HTTP TLS key outside any secret mount',
    set: ['config.broker.type=http', 'config.broker.http.tls.certFile=/certs/tls.crt', 'config.broker.http.tls.keyFile=/certs/tls.key'],
    message: /not inside any secretMounts path/,
  },
  {
    why: 'HTTP events port on the metrics port',
    set: ['config.broker.type=http', 'config.broker.http.port=9464'],
    message: /is the metrics port too/,
  },
  {
    why: 'static AWS keys in values',
    set: [
      'config.broker.type=kinesis',
      'config.broker.kinesis.credentials.accessKeyId=AKIA',
      'config.broker.kinesis.credentials.secretAccessKey=x',
    ],
    message: /static keys/,
  },
];

async function step<T>(title: string, action: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  console.log(`▶ ${title}`);
  const result = await action();
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

function capture(command: string, args: string[]): { status: number | null; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function exec(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const started = performance.now();
  mkdirSync(renderedDir, { recursive: true });
  const [helmBin, promtoolBin] = await step(`tools: helm ${HELM_VERSION}, promtool ${PROMTOOL_VERSION}`, () => [helm(), promtool()]);
  await step('alert rules: promtool test rules (each fault detected in time, a healthy pipeline silent)', () =>
    testAlertRules(promtoolBin),
  );
  await step('dashboard: every panel query parsed by promtool', () => console.log(`  ${checkDashboardQueries(promtoolBin)} queries`));
  const validate = await step('build the manifest checker (deploy/check/validate)', () => validator(repoRoot));
  await step('checker tests: broken manifests must fail (go test)', () =>
    exec('go', ['-C', join(repoRoot, 'deploy', 'check', 'validate'), 'test', './...']),
  );

  const helmArgs = ['--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  for (const profile of profiles) {
    const file = join(renderedDir, `${profile.name}.yaml`);
    const rules = join(renderedDir, `${profile.name}.rules.yaml`);
    await step(`profile ${profile.name}: lint, template, validate`, async () => {
      const values = profile.values.flatMap((path) => ['-f', join(repoRoot, path)]);
      exec(helmBin, ['lint', '--strict', '--quiet', chart, ...helmArgs, ...values]);
      writeFileSync(file, execFileSync(helmBin, ['template', 'sluice', chart, ...helmArgs, ...values], { encoding: 'utf8' }));
      exec(validate, [...profile.expect, '-rules-out', rules, file]);
      if (profile.expect.includes('-monitoring')) exec(promtoolBin, ['check', 'rules', rules]);
      const config = await validateRenderedConfig(readFileSync(file, 'utf8'));
      console.log(`  ✓ Sluice accepts the pod's config: broker ${config.broker.type}, pool ${config.pool.size}`);
    });
  }

  await step('the chart refuses bad values', () => {
    for (const { why, set, message } of mustFail) {
      const result = capture(helmBin, ['template', 'sluice', chart, ...helmArgs, ...set.flatMap((value) => ['--set', value])]);
      if (result.status === 0 || !message.test(result.out))
        throw new Error(`helm template should fail (${why}) matching ${message}:\n${result.out}`);
      console.log(`  ✓ refused: ${why}`);
    }
  });

  await step('the checker refuses a broken render', () => {
    const broken = join(renderedDir, 'broken.yaml');
    writeFileSync(broken, readFileSync(join(renderedDir, 'default.yaml'), 'utf8').replace('imagePullPolicy:', 'imagePullPolicyy:'));
    const result = capture(validate, [broken]);
    if (result.status === 0 || !result.out.includes('unknown field'))
      throw new Error(`the checker accepted an unknown field:\n${result.out}`);
    console.log('  ✓ refused: unknown field imagePullPolicyy');
  });

  console.log(`deploy:check passed in ${((performance.now() - started) / 1000).toFixed(1)} s; renders in .sluice/rendered/`);
}

main().catch((error: unknown) => {
  console.error(`deploy:check failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
