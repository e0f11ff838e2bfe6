import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { Origin } from './issues.ts';

/**
 * Which layer set each key of a merged config, by dotted path: the file's lines first, then
 * environment variables and `--set` flags, each replacing what it overrides (and everything
 * below it: an environment list replaces the file's list, items and all). An issue's path is
 * then looked up by its longest known prefix, so a missing key is reported at its section.
 */
export class Origins {
  private readonly byPath = new Map<string, Origin>();

  constructor(private readonly fallback?: Origin) {}

  set(path: readonly (string | number)[], origin: Origin): void {
    const key = path.join('.');
    for (const known of [...this.byPath.keys()]) if (known.startsWith(`${key}.`)) this.byPath.delete(known);
    this.byPath.set(key, origin);
  }

  /** Adds another layer's origins on top of these. */
  overlay(other: Origins): this {
    for (const [key, origin] of other.byPath) this.set(key.split('.'), origin);
    return this;
  }

  find(path: readonly (string | number)[]): Origin | undefined {
    for (let length = path.length; length > 0; length--) {
      const origin = this.byPath.get(path.slice(0, length).join('.'));
      if (origin) return origin;
    }
    // An unknown section is reported at its own path, above the keys a layer set in it.
    const below = `${path.join('.')}.`;
    for (const [known, origin] of this.byPath) if (known.startsWith(below)) return origin;
    return this.fallback;
  }
}

export type NodeVisitor = (path: (string | number)[], node: Node, keyNode: Node | undefined) => void;

/** Calls `visit` for every value of a YAML tree, with its key path (map keys and list indexes). */
export function walkYaml(node: unknown, visit: NodeVisitor, path: (string | number)[] = [], keyNode?: Node): void {
  if (!node || typeof node !== 'object') return;
  if (path.length > 0) visit(path, node as Node, keyNode);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walkYaml(pair.value, visit, [...path, key], (pair.key as Node | null) ?? undefined);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      walkYaml(item, visit, [...path, index]);
    });
  }
}

/** The 1-based line a node starts on (its key's line for a map value). */
export function lineOf(node: Node | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

/** Every key of a parsed file with the line it is written on. */
export function fileOrigins(doc: Document, lines: LineCounter, file: string): Origins {
  const origins = new Origins({ file });
  walkYaml(doc.contents, (path, node, keyNode) => {
    origins.set(path, { file, line: lineOf(keyNode ?? node, lines) });
  });
  return origins;
}
