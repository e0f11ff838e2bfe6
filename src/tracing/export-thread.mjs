// Worker-thread host of the span export thread when Sluice runs from its TypeScript sources
// (tests, development): worker threads do not inherit the parent's loader, so register tsx here.
// Compiled, export-thread.ts starts export-thread-main.js itself and this file is not used.
import { register } from 'tsx/esm/api';

register();
await import('./export-thread-main.ts');
