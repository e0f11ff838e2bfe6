// `sluice simulate`: flags parsed and checked as commander reads them (units.ts), so a bad value
// fails before anything runs; the work is in src/simulate/command.ts (loaded only when used).
import type { Command } from 'commander';
import { keySkewForms } from '../simulate/keys.ts';
import { modelKeys } from '../simulate/model-params.ts';
import { serviceTimeForms } from '../simulate/service-time.ts';
import { workloadForms } from '../simulate/workload.ts';
import { count, duration, size, sizeForms } from './units.ts';
import { setFlag } from './set-flag.ts';

const countList = (flag: string) => (value: string) => value.split(',').map((v) => count(flag)(v.trim()));
const repeat = (value: string, previous: string[] = []) => [...previous, value];

export function addSimulateCommand(program: Command, done: (code: number) => void): void {
  program
    .command('simulate')
    .description(
      "simulate Sluice's pipeline on a workload in seconds: throughput, latency, queue, drops, memory, keeps up or not (checked against sluice bench by npm run simulate:validate: p99 under load comes out low)",
    )
    .option(
      '-c, --config <file>',
      'Sluice config: broker type and section, queue, pool, handler retry, dead letters (default: the built-in defaults, memory broker)',
    )
    .option(...setFlag)
    .option('--workload <spec>', workloadForms, 'constant:10000/s')
    .option('--service-time <spec>', `handler time per try: ${serviceTimeForms}`, 'fixed:1ms')
    .option(
      '--calibrate-from <url|file>',
      "service time from a running Sluice's /metrics (sluice_processing_duration_seconds), e.g. http://host:9464/metrics; replaces --service-time",
    )
    .option('--failure-rate <share>', 'share of handler tries that fail (retriable), 0..1', Number, 0)
    .option('--keys <n>', 'distinct keys (0: none)', count('--keys'), 100)
    .option('--key-skew <spec>', keySkewForms, 'uniform')
    .option('--message-size <size>', `event size: ${sizeForms}`, size('--message-size'), 1024)
    .option('--duration <time>', 'simulated time of arrivals: 60, 60s, 5m (a bare number is seconds)', duration('--duration', 's'), 60)
    .option('--warmup <time>', 'events appended before it are left out of the latency figures', duration('--warmup', 's'), 0)
    .option('--drain <time>', 'after the duration, keep processing (no new arrivals) at most this long', duration('--drain', 's'), 60)
    .option('--seed <n>', 'random seed: the same seed gives the same result', count('--seed'), 1)
    .option('--model <key=value>', `delivery-model parameter (repeatable): ${modelKeys}`, repeat)
    .option('--sweep', 'simulate every queue × pool size pair (the grid of sluice tune)')
    .option('--queue-sizes <list>', 'queue.maxEvents values for --sweep', countList('--queue-sizes'), [100, 1000, 10000])
    .option('--pool-sizes <list>', 'pool.size values for --sweep', countList('--pool-sizes'), [1, 4, 16, 64])
    .option('--slo-p99 <time>', 'p99 objective for --sweep: 100, 100ms, 1.5s (a bare number is ms)', duration('--slo-p99', 'ms'), 100)
    .option('--out <file>', 'write the result (and series) as JSON')
    .option('--report <file>', 'write a self-contained HTML page: queue depth and latency over time per configuration')
    .action(async (flags) => {
      const { simulateCommand } = await import('../simulate/command.ts');
      done(await simulateCommand(flags));
    });
}
