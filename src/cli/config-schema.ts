import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';

/**
 * `sluice config schema [--out FILE]`: the JSON Schema of the config file, generated from the
 * zod schemas that validate it (src/config/json-schema.ts), for editor completion and checks:
 * a YAML file starting with `# yaml-language-server: $schema=./sluice.schema.json` completes
 * `broker.kafka.topics` and flags a typo as you type.
 */
export async function configSchemaCommand(options: { out?: string }): Promise<number> {
  // Imported here: the adapters' schemas are loaded only by the commands that need them.
  const { configJsonSchema, formatJsonSchema } = await import('../config/json-schema.ts');
  const text = formatJsonSchema(await configJsonSchema());
  if (!options.out) {
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(options.out, text);
  } catch (error) {
    throw new ConfigError('--out', `cannot write ${options.out}: ${(error as Error).message}`);
  }
  process.stderr.write(
    `wrote ${options.out}; editors use it when a config file starts with: # yaml-language-server: $schema=<its path from that file>\n`,
  );
  return 0;
}

/** Adds `schema` to the `config` command; `done` receives the exit code. */
export function addConfigSchemaCommand(config: Command, done: (code: number) => void): void {
  config
    .command('schema')
    .description('print the JSON Schema of the config file (editor completion: # yaml-language-server: $schema=FILE)')
    .option('-o, --out <file>', 'write it to FILE instead of stdout')
    .action(async (options: { out?: string }) => {
      done(await configSchemaCommand(options));
    });
}
