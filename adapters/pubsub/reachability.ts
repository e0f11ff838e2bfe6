import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import { Outage } from '../../src/source-kit/index.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';

/**
 * Whether Pub/Sub answers, for a subscriber that would otherwise not notice that it does not.
 *
 * The client retries a failing StreamingPull by itself and says so only in 'debug' events: cut
 * from the server, a subscriber receives nothing, holds nothing, and looks exactly like one on an
 * idle subscription (measured by the drill: 90 s of cut link, no error, ready all along, lag 0).
 * So the source asks the server directly (GetSubscription, bounded by `timeoutMs`):
 * - every `intervalMs` while no message arrived for that long (a subscriber that receives is
 *   connected; one probe per interval at most, so an idle replica costs one admin call per interval);
 * - at once when the client reports that a stream ended (the 'debug' event), which is how a cut
 *   link shows first.
 * A failed probe makes the source unready (health names the error) until a probe succeeds or a
 * message arrives. `onBack` runs when a probe succeeds after a failure: the client's own stream
 * retries back off up to 60 s, so the source reopens its streams at once rather than wait.
 */
export class Reachability {
  private readonly outage: Outage;
  private probing = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSign = Date.now();

  constructor(
    private readonly check: (timeoutMs: number) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    logger: Logger,
    private readonly onBack: () => void = () => undefined,
  ) {
    this.outage = new Outage(logger, 'pubsub: the server');
  }

  /** `unreachable for 12 s (<first error>)` while the last probe failed and nothing arrived since. */
  describe(): string | undefined {
    return this.outage.describe();
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (Date.now() - this.lastSign >= this.intervalMs) void this.probe();
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A message arrived (at `at`, ms): the server is there. */
  alive(at: number): void {
    this.lastSign = at;
    this.outage.answered('a message arrived');
  }

  /** Asks the server now (once at a time). */
  async probe(): Promise<void> {
    if (this.probing || this.intervalMs <= 0) return;
    this.probing = true;
    try {
      await withTimeout(this.check(this.timeoutMs), this.timeoutMs, 'GetSubscription');
      this.lastSign = Date.now();
      if (this.outage.answered('it answers again')) this.onBack();
    } catch (error) {
      this.outage.failed(errorMessage(error));
    } finally {
      this.probing = false;
    }
  }
}
