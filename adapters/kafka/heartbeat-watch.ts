import type { Outage } from '../../src/source-kit/index.ts';
import type { KafkaConfig } from './config.ts';

/**
 * Whether @platformatic/kafka's brokers answer, from its heartbeat events, for the source's
 * {@link Outage} (health not ready while it lasts). The client retries heartbeats and fetches by
 * itself and reports a broker that is gone only there: an error (a group error makes it rejoin
 * instead, so each one reported is the coordinator not answering), or no answer at all while it
 * keeps reconnecting (it reported no error, for a broker stopped by pid, within 60 s), which
 * {@link tick} notices: three heartbeats due and none answered.
 */
export class HeartbeatWatch {
  /** When a heartbeat was last answered (or the group joined, or the loop was held). */
  private lastAnswer = Date.now();
  /** When {@link tick} last ran. */
  private lastTick = Date.now();
  /** The last answer followed another (not a join or an outage). */
  private answeredBefore = false;
  /** The time between two answers in a row (0: none seen yet). */
  private gap = 0;

  constructor(
    private readonly outage: Outage,
    private readonly config: Pick<KafkaConfig, 'heartbeatIntervalMs' | 'commitIntervalMs'>,
  ) {}

  /** The group was joined: no heartbeats while joining, so the silence counts from here. */
  joined(): void {
    this.lastAnswer = Date.now();
    this.answeredBefore = false;
  }

  /** A heartbeat failed (not a group error). */
  failed(message: string): void {
    this.outage.failed(`heartbeat failed: ${message}`);
  }

  /** A heartbeat was answered: an outage under way ends. */
  answered(): void {
    const now = Date.now();
    // Under KIP-848 the broker sets the interval: the gap between two answers in a row tells it.
    if (!this.outage.problem && this.answeredBefore) this.gap = now - this.lastAnswer;
    this.answeredBefore = true;
    this.lastAnswer = now;
    this.outage.answered('a heartbeat was answered');
  }

  /** Every commitIntervalMs: `joined` says whether heartbeats are due at all. */
  tick(joined: boolean): void {
    const now = Date.now();
    const { heartbeatIntervalMs, commitIntervalMs } = this.config;
    // A late tick means the event loop itself was held (a handler that blocks it, a long GC): no
    // heartbeat could be sent meanwhile, so the silence counts from now, not as an outage.
    if (now - this.lastTick > commitIntervalMs + heartbeatIntervalMs) this.lastAnswer = now;
    this.lastTick = now;
    const silentMs = now - this.lastAnswer;
    if (joined && silentMs > 3 * Math.max(heartbeatIntervalMs, this.gap)) {
      this.outage.failed(`no heartbeat answered for ${Math.round(silentMs / 1000)} s`);
    }
  }
}
