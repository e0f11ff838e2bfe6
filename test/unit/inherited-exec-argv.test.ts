import { describe, expect, it } from 'vitest';
import { childExecArgv, inheritedExecArgv } from '../../src/util/runtime.ts';

describe('inheritedExecArgv: a child started with this process flags', () => {
  it('keeps each flag with its value, so that two --require of different files stay two', () => {
    expect(inheritedExecArgv([], ['--require', './a.js', '--require', './b.js'])).toEqual([
      '--require',
      './a.js',
      '--require',
      './b.js',
      ...childExecArgv(),
    ]);
  });

  it('does not load tsx twice when this process imports it by its package name', () => {
    expect(inheritedExecArgv(['--expose-gc'], ['--import', 'tsx', '--max-semi-space-size=16'])).toEqual([
      '--import',
      'tsx',
      '--max-semi-space-size=16',
      '--expose-gc',
    ]);
  });

  it('gives each flag once: what this process has and the child needs is not repeated', () => {
    expect(inheritedExecArgv(['--expose-gc'], [...childExecArgv(), '--expose-gc', '--cpu-prof', '--cpu-prof-dir', '/tmp/p'])).toEqual([
      ...childExecArgv(),
      '--expose-gc',
      '--cpu-prof',
      '--cpu-prof-dir',
      '/tmp/p',
    ]);
  });
});
