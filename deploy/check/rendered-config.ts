// The config a rendered pod would start with, validated by Sluice's own schema: the ConfigMap's
// config.yaml merged with the container's SLUICE_* environment, as `sluice run` merges them. Env
// values from the downward API or Secrets are stand-ins; a profile whose config Sluice would
// refuse at start-up fails here rather than in a crash-looping pod.
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { readEnv } from '../../src/config/env.ts';
import { throwIssues } from '../../src/config/issues.ts';
import { knownKeyPaths } from '../../src/config/keys.ts';
import { deepMerge, validateConfig } from '../../src/config/load.ts';
import type { SluiceConfig } from '../../src/config/schema.ts';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

interface Manifest {
  kind?: string;
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: { env?: EnvVar[] }[] } } };
}

export async function validateRenderedConfig(rendered: string): Promise<SluiceConfig> {
  const manifests = parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
  const configMap = manifests.find((manifest) => manifest.kind === 'ConfigMap' && manifest.data?.['config.yaml'] !== undefined);
  const workload = manifests.find((manifest) => manifest.kind === 'Deployment' || manifest.kind === 'StatefulSet');
  if (!configMap || !workload) throw new Error('no ConfigMap with config.yaml, or no workload, in the render');
  const env: NodeJS.ProcessEnv = {};
  for (const variable of workload.spec?.template?.spec?.containers?.[0]?.env ?? []) {
    env[variable.name] = variable.value ?? `stand-in-for-${variable.name.toLowerCase()}`;
  }
  // The environment as `sluice run` reads it: a look-alike of a config variable fails here too.
  const fromEnv = readEnv(env, await knownKeyPaths());
  throwIssues(fromEnv.issues);
  return validateConfig(deepMerge(parseYaml(configMap.data!['config.yaml']!) ?? {}, fromEnv.values), fromEnv.origins);
}
