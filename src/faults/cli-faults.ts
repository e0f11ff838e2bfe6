import { parseDuration } from '../cli/units.ts';
import type { ConfigError } from '../errors.ts';
import type { Faults } from './fault-state.ts';

/** `--fault` names as people type them, and the {@link Faults} field each sets. */
const NAMES: Record<string, keyof Faults> = {
  'handler-error-rate': 'handlerErrorRate',
  'handler-latency': 'handlerLatencyMs',
  'handler-stall': 'handlerStall',
  'commit-delay': 'commitDelayMs',
};

/**
 * Parses `sluice run --fault` values: `handler-error-rate=0.2`, `handler-latency=500ms`,
 * `handler-stall`, `commit-delay=2s` (durations as every flag takes them, ../cli/units.ts; a bare
 * number is ms). Throws an error naming the flag and the value.
 */
export function parseFaultFlags(flags: readonly string[]): Partial<Faults> {
  const faults: Partial<Faults> = {};
  for (const flag of flags) {
    const [name = '', value] = flag.split('=', 2);
    const key = NAMES[name];
    if (!key) throw new Error(`--fault ${flag}: unknown fault "${name}" (known: ${Object.keys(NAMES).join(', ')})`);
    if (key === 'handlerStall') {
      if (value !== undefined && value !== 'true' && value !== 'false')
        throw new Error(`--fault ${flag}: expected handler-stall or handler-stall=true|false`);
      faults.handlerStall = value !== 'false';
    } else if (key === 'handlerErrorRate') {
      const rate = Number(value);
      if (value === undefined || value === '' || !Number.isFinite(rate) || rate < 0 || rate > 1)
        throw new Error(`--fault ${flag}: expected a share from 0 to 1, e.g. handler-error-rate=0.2`);
      faults.handlerErrorRate = rate;
    } else {
      try {
        faults[key] = Math.round(parseDuration(value ?? '', '--fault', 'ms'));
      } catch (error) {
        throw new Error(`--fault ${flag}: ${(error as ConfigError).reason}, e.g. ${name}=500ms or ${name}=2s`);
      }
    }
  }
  return faults;
}
