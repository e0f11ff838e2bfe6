/**
 * The dependency rules of the house, checked on every import statement (static, re-export and
 * dynamic import()) of every .ts file under src/ and adapters/, as TypeScript's own pre-processor
 * reads them (comments and strings cannot fool it). Arrows point down:
 *
 *   tools (src/cli, src/bench, src/simulate) ─┐
 *   composition root (src/composition, src/di, src/app.ts)
 *      │ the only src/ files that name an adapter: src/composition/
 *   adapters/<broker>  (each on its own: no adapter imports another)
 *      │
 *   core and helpers (src/core, src/source-kit, src/handler, src/dead-letter, src/audit, src/metrics, src/tracing, src/util, src/config)
 *      │
 *   the contracts (src/broker: contract.ts runtime, tooling.ts for tools) and src/errors.ts
 *
 * The rules (each a test below, each naming the offending file and import):
 *  1. No file under src/ imports from adapters/, except src/composition/ (the registry).
 *  2. No adapter imports another adapter.
 *  3. Adapters import src/ only below them: never src/cli, src/bench, src/simulate, src/composition,
 *     src/di or src/app.ts (which would loop back into every adapter).
 *  4. src/core imports neither src/metrics, the tools, the composition root, the tooling contract
 *     nor adapters: metrics read the core, not the other way round.
 *  5. The contracts (src/broker) import nothing above them: not src/core, src/metrics, the tools,
 *     the composition root or adapters; the runtime contract (contract.ts) imports nothing at all.
 *  6. The source kit (src/source-kit, what adapters' sources are written on) imports only the
 *     runtime contract, src/errors.ts and src/util: an adapter that uses it pulls in no core internals.
 * src/README.md says the same in prose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Every file's relative imports, resolved to repository paths (`src/core/pipeline.ts`). */
function importsOf(file: string, text = readFileSync(join(root, file), 'utf8')): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) =>
      relative(root, resolve(root, dirname(file), name))
        .split('\\')
        .join('/'),
    );
}

interface Rule {
  /** The files the rule applies to. */
  from: (file: string) => boolean;
  /** Whether `file` may not import `target`. */
  forbids: (target: string, file: string) => boolean;
}

const under = (prefix: string) => (path: string) => path.startsWith(prefix);
const anyOf =
  (...tests: ((path: string) => boolean)[]) =>
  (path: string) =>
    tests.some((test) => test(path));
const adapterOf = (path: string) => /^adapters\/([^/]+)\//.exec(path)?.[1];
const tools = anyOf(under('src/cli/'), under('src/bench/'), under('src/simulate/'));
const compositionRoot = anyOf(under('src/composition/'), under('src/di/'), (path) => path === 'src/app.ts');

const RULES: Record<string, Rule> = {
  'no file under src/ imports adapters/, except the composition root (src/composition/)': {
    from: (file) => file.startsWith('src/') && !file.startsWith('src/composition/'),
    forbids: under('adapters/'),
  },
  'no adapter imports another adapter': {
    from: under('adapters/'),
    forbids: (target, file) => adapterOf(target) !== undefined && adapterOf(target) !== adapterOf(file),
  },
  'adapters import no tool and no composition root': {
    from: under('adapters/'),
    forbids: anyOf(tools, compositionRoot),
  },
  'src/core imports no metrics, tool, composition root, tooling contract or adapter': {
    from: under('src/core/'),
    forbids: anyOf(under('src/metrics/'), tools, compositionRoot, (path) => path === 'src/broker/tooling.ts', under('adapters/')),
  },
  'the contracts (src/broker) import nothing above them': {
    from: under('src/broker/'),
    forbids: anyOf(under('src/core/'), under('src/metrics/'), tools, compositionRoot, under('adapters/')),
  },
  'the runtime contract (src/broker/contract.ts) imports nothing': {
    from: (file) => file === 'src/broker/contract.ts',
    forbids: () => true,
  },
  'the source kit (src/source-kit) imports only the runtime contract, src/errors.ts and src/util': {
    from: under('src/source-kit/'),
    forbids: (target) =>
      !(
        under('src/source-kit/')(target) ||
        under('src/util/')(target) ||
        target === 'src/broker/contract.ts' ||
        target === 'src/errors.ts'
      ),
  },
};

/** `file → import` for each import of `sources` that `rule` forbids. */
function violations(rule: Rule, sources: Iterable<[string, string[]]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of sources) {
    if (!rule.from(file)) continue;
    for (const target of imports) if (rule.forbids(target, file)) found.push(`${file} → ${target}`);
  }
  return found;
}

const repository: [string, string[]][] = [...files('src'), ...files('adapters')].map((file) => [file, importsOf(file)]);

describe('architecture: the dependency rules', () => {
  it('finds the files and their imports (the scan itself works)', () => {
    expect(repository.length).toBeGreaterThan(100);
    const registry = repository.find(([file]) => file === 'src/composition/adapters.ts');
    // Dynamic imports count: the registry's lazy import() of each adapter is seen.
    expect(registry?.[1]).toContain('adapters/kafka/module.ts');
  });

  for (const [name, rule] of Object.entries(RULES)) {
    it(name, () => {
      expect(violations(rule, repository)).toEqual([]);
    });
  }

  it('each rule catches a planted violation', () => {
    const planted: Record<string, [string, string]> = {
      'no file under src/ imports adapters/, except the composition root (src/composition/)': [
        'src/bench/x.ts',
        "import { KafkaAdapter } from '../../adapters/kafka/kafka-adapter.ts';",
      ],
      'no adapter imports another adapter': ['adapters/kinesis/x.ts', "const m = await import('../memory/memory-broker.ts');"],
      'adapters import no tool and no composition root': [
        'adapters/pubsub/x.ts',
        "export { adapters } from '../../src/composition/adapters.ts';",
      ],
      'src/core imports no metrics, tool, composition root, tooling contract or adapter': [
        'src/core/x.ts',
        "import type { FastHistogram } from '../metrics/prometheus.ts';",
      ],
      'the contracts (src/broker) import nothing above them': ['src/broker/x.ts', "import { Pipeline } from '../core/pipeline.ts';"],
      'the runtime contract (src/broker/contract.ts) imports nothing': [
        'src/broker/contract.ts',
        "import type { CommitCounts } from '../metrics/source-metrics.ts';",
      ],
      'the source kit (src/source-kit) imports only the runtime contract, src/errors.ts and src/util': [
        'src/source-kit/x.ts',
        "import { BoundedQueue } from '../core/bounded-queue.ts';",
      ],
    };
    for (const [name, rule] of Object.entries(RULES)) {
      const [file, line] = planted[name]!;
      expect(violations(rule, [[file, importsOf(file, `// a comment: import '../../adapters/x.ts'\n${line}\n`)]]), name).toHaveLength(1);
    }
  });
});
