// Worker-thread host of the benchmark producer for the memory broker (which lives in the
// consumer's process). Worker threads do not inherit the TypeScript loader: register it here.
import { register } from 'tsx/esm/api';

register();
await import('./producer-thread-main.ts');
