import { DEFAULT_TEXT, type JsonSchema, SCHEMA_TITLE } from './json-schema.ts';

/**
 * The configuration reference (config/REFERENCE.md), written from the JSON Schema of
 * json-schema.ts, so that it cannot say something the validation does not do. One section per
 * top-level key and per broker, one table per object: key path, type, default, allowed values,
 * description. `npm run config:reference` writes it; a unit test fails when the checked-in file
 * is not what this produces.
 */

/** GitHub's heading anchor: lower case, punctuation dropped (`broker.kafka` → `brokerkafka`). */
export function anchor(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/**
 * Text for a table cell: `|` escaped; outside code spans also `<`, `>` (read as HTML) and `*`.
 */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\*/g, '\\*')))
    .join('`')
    .replace(/\|/g, '\\|');
}

const code = (value: unknown): string => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** The object branch of a schema (itself, or the object among its `anyOf`), if it has keys. */
function objectOf(schema: JsonSchema): JsonSchema | undefined {
  if (schema.properties) return schema;
  return schema.anyOf?.find((branch) => branch.properties);
}

/** `#/properties/broker/properties/kafka` → `broker.kafka`. */
function refPath(schema: JsonSchema): string | undefined {
  const ref = (schema.allOf as JsonSchema[] | undefined)?.[0]?.$ref;
  return typeof ref === 'string'
    ? ref
        .replace(/^#\//, '')
        .split('/properties/')
        .join('.')
        .replace(/^properties\//, '')
    : undefined;
}

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' or ');
  if (refPath(schema)) return 'object';
  if (isNever(schema)) return 'not accepted';
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'any'}`;
  return typeof schema.type === 'string' ? schema.type : 'any';
}

const isNever = (schema: JsonSchema): boolean =>
  typeof schema.not === 'object' && schema.not !== null && Object.keys(schema.not).length === 0;

const FORMATS: Record<string, string> = { uri: 'a URL', 'date-time': 'an ISO-8601 date-time' };

function range(low: unknown, high: unknown, unit = ''): string | undefined {
  if (low !== undefined && high !== undefined) return `${low}–${high}${unit}`;
  if (low !== undefined) return `≥ ${low}${unit}`;
  if (high !== undefined) return `≤ ${high}${unit}`;
  return undefined;
}

/** Allowed values in words: enum, bounds, lengths, pattern, format. */
function allowedOf(schema: JsonSchema): string {
  if (schema.anyOf) {
    return schema.anyOf
      .map((branch) => {
        const words = allowedOf(branch);
        return words ? `${typeOf(branch)}: ${words}` : typeOf(branch);
      })
      .join('; ');
  }
  if (Array.isArray(schema.enum)) return schema.enum.map(code).join(', ');
  if (schema.type === 'boolean') return '`true`, `false`';
  if (isNever(schema)) return '—';
  const parts: string[] = [];
  const numeric = range(schema.minimum ?? schema.exclusiveMinimum, schema.maximum ?? schema.exclusiveMaximum);
  if (numeric) parts.push(numeric);
  if (typeof schema.format === 'string') parts.push(FORMATS[schema.format] ?? schema.format);
  else if (typeof schema.pattern === 'string') parts.push(`matches ${code(schema.pattern)}`);
  if (schema.minLength === 1 && schema.maxLength === undefined) parts.push('non-empty');
  else {
    const length = range(schema.minLength, schema.maxLength, ' characters');
    if (length) parts.push(length);
  }
  if (schema.type === 'array') {
    if (typeof schema.minItems === 'number') parts.push(`at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
    const each = schema.items ? allowedOf(schema.items) : '';
    if (each) parts.push(`each ${each}`);
  }
  return parts.join(', ');
}

function defaultOf(schema: JsonSchema, required: boolean): string {
  if (typeof schema[DEFAULT_TEXT] === 'string') return `_${cell(schema[DEFAULT_TEXT] as string)}_`;
  if (schema.default !== undefined) return cell(code(schema.default));
  return required ? '**required**' : '—';
}

interface Section {
  path: string;
  schema: JsonSchema;
  level: 2 | 3;
}

/** The table of one object, and the objects under it (their own sections, after it). */
function tableOf(section: Section, sections: Section[]): string[] {
  const object = objectOf(section.schema)!;
  const required = new Set(object.required ?? []);
  const rows = ['| Key | Type | Default | Allowed | Description |', '| --- | --- | --- | --- | --- |'];
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    const path = `${section.path}.${key}`;
    const nested = objectOf(child);
    const sameAs = refPath(child);
    let allowed = allowedOf(child) || 'any';
    if (sameAs) allowed = `same keys as [${sameAs}](#${anchor(sameAs)})`;
    else if (nested) {
      const see = `see [${path}](#${anchor(path)})`;
      allowed = child.anyOf ? allowedOf({ ...child, anyOf: child.anyOf.filter((b) => b !== nested) }) : '';
      allowed = allowed ? `${allowed}; object: ${see}` : see;
      sections.push({ path, schema: nested === child ? child : { ...nested, description: child.description }, level: 3 });
    }
    rows.push(
      `| ${code(path)} | ${cell(typeOf(child))} | ${defaultOf(child, required.has(key))} | ${allowed} | ${cell(child.description ?? '')} |`,
    );
  }
  return rows;
}

/** One section: heading, description, table; then the sections of the objects in it. */
function render(section: Section, out: string[], topLevel: Section[]): void {
  out.push(`${'#'.repeat(section.level)} ${section.path}`, '');
  if (section.schema.description) out.push(cell(section.schema.description).replace(/\\\|/g, '|'), '');
  const nested: Section[] = [];
  out.push(...tableOf(section, nested), '');
  // A broker's section is a top-level one of its own (listed in the contents), not nested.
  for (const child of nested) {
    if (topLevel.some((top) => top.path === child.path)) continue;
    render(child, out, topLevel);
  }
}

/** The top-level sections in schema order: every key, and right after `broker`, every adapter. */
function topLevelSections(schema: JsonSchema): Section[] {
  const sections: Section[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    sections.push({ path: key, schema: child, level: 2 });
    if (key === 'broker') {
      for (const [type, adapter] of Object.entries(child.properties ?? {})) {
        if (adapter.properties) sections.push({ path: `broker.${type}`, schema: adapter, level: 2 });
      }
    }
  }
  return sections;
}

/** The whole reference, from the schema of json-schema.ts. */
export function configReferenceMarkdown(schema: JsonSchema): string {
  const top = topLevelSections(schema);
  const out = [
    `# ${SCHEMA_TITLE}: reference`,
    '',
    '<!-- Generated from the zod schemas (src/config/schema.ts, adapters/*/config.ts) by `npm run config:reference`: do not edit by hand. -->',
    '',
    'Every key of a Sluice config file, its type, default, allowed values and meaning. A config is built in layers, each over the one',
    'before: these defaults, the YAML file (`--config`), `SLUICE_<SECTION>__<KEY>` environment variables (`queue.maxEvents` is',
    '`SLUICE_QUEUE__MAX_EVENTS`), then `--set key.path=value` flags. Unknown keys are errors. `sluice config check` validates a file;',
    '`sluice config schema` prints the JSON Schema ([sluice.schema.json](sluice.schema.json)) that editors use for completion:',
    'start a config file with `# yaml-language-server: $schema=<path to sluice.schema.json>`.',
    '',
    'Only the section of the broker that `broker.type` selects is used (and that of `deadLetter.broker.type`, if another).',
    '',
    '## Contents',
    '',
    ...top.map((section) => `${section.path.includes('.') ? '  ' : ''}- [${section.path}](#${anchor(section.path)})`),
    '',
  ];
  for (const section of top) render(section, out, top);
  return `${out.join('\n').trimEnd()}\n`;
}
