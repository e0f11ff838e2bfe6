// kafkajs on Node ≥ 23 warns about its own negative timer on every start; the sluice command
// drops exactly that warning and prints every other one as Node would.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const PRELUDE = `
import { createRequire } from 'node:module';
import { dropHarmlessWarnings } from './src/cli/harmless-warnings.ts';
dropHarmlessWarnings();
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js');
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, clientId: 't', broker: 'b', logger });
`;
// Node warns about a negative timeout once per process: each case runs in a process of its own.
const KAFKAJS = `${PRELUDE}
queue.scheduleCheckPendingRequests(); // kafkajs' own negative delay
clearTimeout(queue.throttleCheckTimeoutId);
process.emitWarning('still printed', 'SluiceTestWarning');
`;
const OURS = `${PRELUDE}
setTimeout(() => {}, -5); // a negative delay anywhere else
`;

function stderrOf(script: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', () => resolve(stderr)));
}

describe('dropHarmlessWarnings', () => {
  it("drops kafkajs' negative-timeout warning and prints other warnings", async () => {
    const stderr = await stderrOf(KAFKAJS);
    expect(stderr).not.toMatch(/TimeoutNegativeWarning/);
    expect(stderr).toMatch(/SluiceTestWarning: still printed/);
  });

  it('still prints a negative-timeout warning raised outside kafkajs', async () => {
    expect(await stderrOf(OURS)).toMatch(/TimeoutNegativeWarning: -5 is a negative number/);
  });
});
