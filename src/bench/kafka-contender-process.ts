/**
 * `bench:kafka`'s contenders each in a child process of its own (kafka-bench.ts, `isolated`):
 * the parent's side, which forks the child and asks it for one drain per round, and the child's,
 * which answers. In one process the contenders share the libraries' code, and V8 optimizes it for
 * all of them at once: after Sluice had run on kafkajs, the bare kafkajs reader spent 3.1 µs of
 * CPU an event where its first round, before any Sluice, spent 1.97 (same backlog, same machine),
 * and which contender paid for the other's garbage depended on the order. Alone, each is
 * measured as it runs in production, in a process that lives for all rounds, or (`--fresh`,
 * {@link childPerRun}) in a process started for each drain.
 */
import { fork } from 'node:child_process';
import { errorMessage } from '../errors.ts';
import { inheritedExecArgv } from '../util/runtime.ts';
import type { Rate } from './bench-support.ts';
import { expectMessage } from './children.ts';
import type { Contender } from './kafka-bare.ts';

/** `contender`, run by a child process of `module` started with `args` (which make it {@link serveContender} the same contender). */
export async function contenderInChild(contender: Contender, module: string, args: string[]): Promise<ChildContender> {
  const child = fork(module, args, {
    // With this process's flags (heap sizes, --cpu-prof), so that all contenders run alike. The
    // child's logs (Sluice's summary line) go to stderr: stdout's last line is the bench's JSON.
    execArgv: inheritedExecArgv(['--expose-gc']),
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  await expectMessage(child, 'ready', 60_000, `bench: ${contender.name}`);
  return {
    ...contender,
    run: async (round) => {
      const answer = expectMessage<{ type: 'result'; result: Rate & { commits?: number } }>(
        child,
        'result',
        900_000,
        `bench: ${contender.name}`,
      );
      child.send({ round });
      return (await answer).result;
    },
    stop: () => {
      const exited =
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.disconnect();
      return exited;
    },
  };
}

/** A contender served by a child process; `stop` lets the child go and resolves once it has exited. */
export type ChildContender = Contender & { stop(): Promise<void> };

/**
 * `--fresh`: each drain of `contender` in a child `start` makes just before it, which drains at
 * once and has exited before the next contender starts. Children that live for all rounds keep
 * the GC regime they land in during their first drain, and which one that is follows their place
 * in the first round (README, *Each contender in a process of its own*): here every contender has
 * the same history before every drain.
 */
export function childPerRun(contender: Contender, start: () => Promise<ChildContender>): Contender {
  return {
    ...contender,
    run: async (round) => {
      const child = await start();
      try {
        return await child.run(round);
      } finally {
        await child.stop();
      }
    },
  };
}

/** The child's side: drains when told, with the garbage of the last drain collected first; returns once the parent lets go. */
export async function serveContender(contender: Contender): Promise<void> {
  process.on('message', (message: { round: number }) => {
    globalThis.gc?.();
    contender.run(message.round).then(
      (result) => process.send!({ type: 'result', result }),
      (error: unknown) => process.send!({ type: 'error', message: errorMessage(error) }),
    );
  });
  process.send!({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('disconnect', () => resolve()));
}
