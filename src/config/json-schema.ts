import { type ZodType, z } from 'zod';
import { adapters } from '../composition/adapters.ts';
import { configSchema, DEFAULT_TEXT } from './schema.ts';
import { isPlainObject } from './values.ts';

/**
 * The JSON Schema of a Sluice config file, generated from the zod schemas (the core schema and
 * every adapter's), for editor completion and hover (`# yaml-language-server: $schema=…`) and
 * for the generated reference (reference-md.ts).
 *
 * Choices, and why:
 * - Draft-07: the YAML language server (VS Code, Neovim, JetBrains' YAML plugin) supports it
 *   fully, later drafts only partly.
 * - The input side (`io: 'input'`): a key with a default may be left out of the file, so only
 *   keys without one are `required`.
 * - No `$id`: the schema is referenced by a relative path from the YAML file.
 * - The broker sections: the core schema accepts any object under `broker.<type>` because the
 *   adapter selected by `broker.type` validates it (validate.ts). Here every adapter's schema is
 *   written out under `broker` (so that `broker.kafka.topics` completes), `broker.type` lists
 *   the adapters, and `deadLetter.broker.<type>` refers to `broker.<type>` (same keys).
 * - A default computed on the generating machine (`pool.threads`: its CPU count) is not written
 *   as a default: the schema's `.meta({ [DEFAULT_TEXT]: '…' })` says in words what it is.
 */
export type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  description?: string;
  default?: unknown;
};

export { DEFAULT_TEXT };

export const SCHEMA_TITLE = 'Sluice configuration';

const SAFE_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

interface ZodDef {
  type: string;
  defaultValue?: unknown;
}

/**
 * Per-node fixes of zod's output: the default of a `.preprocess()` value (zod leaves it out on
 * the input side), a machine-dependent default replaced by its words, and `z.int()`'s implied
 * ±2^53 bounds and prefaults' `{}` (they say nothing to a reader) dropped.
 */
function tidy(ctx: { zodSchema: unknown; jsonSchema: object }): void {
  const json = ctx.jsonSchema as JsonSchema;
  const def = (ctx.zodSchema as { _zod: { def: ZodDef } })._zod.def;
  if (def.type === 'default' && !('default' in json)) json.default = def.defaultValue;
  if (DEFAULT_TEXT in json) delete json.default;
  if (isPlainObject(json.default) && Object.keys(json.default).length === 0) delete json.default;
  for (const bound of ['minimum', 'maximum'] as const) if (SAFE_BOUNDS.has(json[bound] as number)) delete json[bound];
}

/** One zod schema as draft-07 JSON Schema of its input side (see above), tidied. */
function toJson(schema: ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-07', io: 'input', override: tidy }) as JsonSchema;
}

/** The whole schema: core keys, and every adapter's section under `broker` and `deadLetter.broker`. */
export async function configJsonSchema(): Promise<JsonSchema> {
  const { $schema, ...core } = toJson(configSchema);
  const types = Object.keys(adapters);
  const broker = core.properties!.broker!;
  const deadLetterBroker = core.properties!.deadLetter!.properties!.broker!;
  broker.properties!.type!.enum = types;
  deadLetterBroker.properties!.type!.enum = types;
  for (const type of types) {
    const { $schema: _, ...section } = toJson(await adapters[type]!.schema());
    broker.properties![type] = section;
    deadLetterBroker.properties![type] = {
      description: `Section of the ${type} dead-letter broker when it differs from \`broker.${type}\` (same keys; default: \`broker.${type}\`).`,
      allOf: [{ $ref: `#/properties/broker/properties/${type}` }],
    };
  }
  // A section no adapter owns is rejected when Sluice starts (validate.ts): say so to the editor.
  broker.additionalProperties = false;
  deadLetterBroker.additionalProperties = false;
  return {
    $schema,
    title: SCHEMA_TITLE,
    description:
      'Configuration of Sluice, the pluggable-broker ingestion gateway. Generated from its zod schemas by `sluice config schema`; every key may be left out unless marked required.',
    ...core,
  };
}

/** The schema as the checked-in file holds it: two-space JSON and a final newline. */
export function formatJsonSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
