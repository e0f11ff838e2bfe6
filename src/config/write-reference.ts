import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, formatJsonSchema } from './json-schema.ts';
import { configReferenceMarkdown } from './reference-md.ts';

/**
 * The generated files checked in under config/: the JSON Schema (which the shipped examples
 * name in their `# yaml-language-server: $schema=` line) and the Markdown reference.
 * `npm run config:reference` runs this file to write them; a unit test compares them with what
 * the generator makes now, so a schema change without a regeneration fails CI.
 */
export const SCHEMA_FILE = 'config/sluice.schema.json';
export const REFERENCE_FILE = 'config/REFERENCE.md';

/** What the two files should hold, relative paths from the repository root. */
export async function referenceFiles(): Promise<{ path: string; text: string }[]> {
  const schema = await configJsonSchema();
  return [
    { path: SCHEMA_FILE, text: formatJsonSchema(schema) },
    { path: REFERENCE_FILE, text: configReferenceMarkdown(schema) },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { path, text } of await referenceFiles()) {
    await writeFile(path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
