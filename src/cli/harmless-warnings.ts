/**
 * Process warnings that are known to be harmless and would otherwise print on every start:
 * kafkajs 2.2.4's request queue arms its throttle timer with `throttledUntil - Date.now()`,
 * a large negative delay while nothing is throttled, and Node ≥ 23 warns about it
 * (TimeoutNegativeWarning) before running the timer after 1 ms, which is what kafkajs expects.
 * Only that warning, raised from inside kafkajs, is dropped; every other warning goes to Node's
 * own printing as before. (Node warns about a negative timeout once per process, so once kafkajs
 * has raised it, a later one elsewhere is not printed either way.)
 */
function harmless(warning: Error): boolean {
  return warning.name === 'TimeoutNegativeWarning' && /[\\/]kafkajs[\\/]src[\\/]network[\\/]requestQueue[\\/]/.test(warning.stack ?? '');
}

export function dropHarmlessWarnings(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (harmless(warning)) return;
    for (const print of printers) print.call(process, warning);
  });
}
