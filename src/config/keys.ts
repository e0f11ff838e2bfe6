import type { ZodType } from 'zod';
import { adapters } from '../composition/adapters.ts';
import { configSchema } from './schema.ts';

/**
 * Every key path the schemas know (`queue.maxEvents`, `broker.kafka.sasl.username`, …), read
 * from the zod schemas themselves, for "did you mean" suggestions: a list kept by hand would
 * drift from the schema.
 */
export async function knownKeyPaths(): Promise<string[]> {
  const paths = keysOf(configSchema, []);
  for (const [type, entry] of Object.entries(adapters)) {
    const section = (await entry!.schema()) as ZodType;
    paths.push(`broker.${type}`, ...keysOf(section, ['broker', type]));
  }
  return paths;
}

interface Def {
  type: string;
  shape?: Record<string, ZodType>;
  innerType?: ZodType;
  in?: ZodType;
  out?: ZodType;
  options?: ZodType[];
}

const defOf = (schema: ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object shapes a schema may take, through defaults, optionals, pipes and unions. */
function shapesOf(schema: ZodType | undefined, depth = 0): Record<string, ZodType>[] {
  if (!schema || depth > 10) return [];
  const def = defOf(schema);
  if (def.type === 'object' && def.shape) return [def.shape];
  if (def.innerType) return shapesOf(def.innerType, depth + 1);
  if (def.type === 'pipe') return [...shapesOf(def.in, depth + 1), ...shapesOf(def.out, depth + 1)];
  if (def.type === 'union') return (def.options ?? []).flatMap((option) => shapesOf(option, depth + 1));
  return [];
}

function keysOf(schema: ZodType, prefix: string[]): string[] {
  const paths = new Set<string>();
  for (const shape of shapesOf(schema)) {
    for (const [key, child] of Object.entries(shape)) {
      paths.add([...prefix, key].join('.'));
      for (const deeper of keysOf(child, [...prefix, key])) paths.add(deeper);
    }
  }
  return [...paths];
}

/** `queue.maxEvents` → `SLUICE_QUEUE__MAX_EVENTS`. */
export function envName(path: string): string {
  return `SLUICE_${path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('__')}`;
}
