import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's scheduling priority by `by` nice steps (Linux: a thread is a task
 * with a nice value of its own; `/proc/thread-self` names its id). Returns the new nice value, or
 * undefined where that is not possible (another OS, a /proc that is not mounted).
 *
 * The span export thread calls it: on a machine with few cores its CPU (protobuf, HTTP) competes
 * with the event loop and with V8's garbage-collection helpers, which the event loop waits for.
 * Niced, it gets what they leave; when that is not enough, its bounded queue drops spans (counted
 * and logged) instead of taking throughput from the events they trace. Raising a priority needs
 * privileges; lowering one never does.
 */
export function lowerThreadPriority(by: number): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    const nice = Math.min(19, getPriority(tid) + by);
    setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
