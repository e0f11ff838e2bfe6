/** Kinesis uses the shared helpers (src/util, re-exported by src/source-kit). */
export { sleep } from '../../src/util/sleep.ts';
export { Backoff } from '../../src/util/backoff.ts';
