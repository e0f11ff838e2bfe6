import type { Logger } from 'pino';
import { NotFoundError, type SluiceError } from '../../src/errors.ts';
import type { KafkaConfig } from './config.ts';

export interface TopicWatchDeps {
  config: Pick<KafkaConfig, 'brokers' | 'topicPattern' | 'missingTopicGraceMs'>;
  logger: Logger;
  /** The topics the source reads now. */
  topics(): readonly string[];
  /** The names of the topics at the brokers. */
  listTopics(): Promise<string[]>;
  /** A `topicPattern` source reads on without these (they are gone for good). */
  drop(gone: string[]): Promise<void>;
  /** The source cannot go on: Sluice stops and exits non-zero (sink.fatal). */
  fatal(error: SluiceError): void;
}

/**
 * Notices that a topic the source reads was deleted. Neither client reports it: kafkajs' consumer
 * crashes and restarts forever (UNKNOWN_TOPIC_OR_PARTITION on every join), @platformatic/kafka's
 * stream fails and reopens forever while the member stays in the group and looks healthy; and
 * both stop reading the other topics meanwhile. So the topics are listed now and then, and one
 * missing for `missingTopicGraceMs` (a delete followed by a re-create, as a reset script does, is
 * left alone) ends the source's use of it: a configured topic is fatal (the operator named it,
 * reading without it would be silent loss of intent), a topic matched by `topicPattern` is
 * dropped (the pattern still stands for the others) unless none is left.
 *
 * A failed listing (broker outage) counts as nothing: the outage is the client's to report.
 */
export class TopicWatch {
  private readonly missingSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(private readonly deps: TopicWatchDeps) {}

  /** How often the topics are listed: often enough to act within the grace, at most every second. */
  get intervalMs(): number {
    return Math.max(1_000, Math.min(10_000, Math.floor(this.deps.config.missingTopicGraceMs / 3)));
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the brokers' topics (serialized: a slow listing is not overtaken by the next). */
  async check(now = Date.now()): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const listed = await this.deps.listTopics().catch(() => undefined);
      if (listed && this.timer) await this.judge(new Set(listed), now);
    } finally {
      this.checking = false;
    }
  }

  private async judge(listed: ReadonlySet<string>, now: number): Promise<void> {
    const { config, logger } = this.deps;
    const reading = this.deps.topics();
    for (const topic of [...this.missingSince.keys()]) {
      if (!reading.includes(topic) || listed.has(topic)) {
        if (listed.has(topic)) logger.info({ topic }, 'kafka: a missing topic is back');
        this.missingSince.delete(topic);
      }
    }
    for (const topic of reading) {
      if (!listed.has(topic) && !this.missingSince.has(topic)) {
        this.missingSince.set(topic, now);
        logger.warn({ topic, graceMs: config.missingTopicGraceMs }, 'kafka: a topic the source reads is missing at the brokers');
      }
    }
    const gone = [...this.missingSince].filter(([, since]) => now - since >= config.missingTopicGraceMs).map(([topic]) => topic);
    if (gone.length === 0) return;
    const what = `topic ${gone.join(', ')} was deleted: not at brokers ${config.brokers.join(',')} for ${config.missingTopicGraceMs} ms (broker.kafka.missingTopicGraceMs)`;
    if (!config.topicPattern || gone.length >= reading.length) {
      this.stop();
      const left = config.topicPattern ? `; no topic matching broker.kafka.topicPattern /${config.topicPattern}/ is left` : '';
      this.deps.fatal(new NotFoundError(`kafka: ${what}${left}`));
      return;
    }
    logger.warn({ topics: gone }, `kafka: ${what}; reading on without it`);
    for (const topic of gone) this.missingSince.delete(topic);
    await this.deps.drop(gone);
  }
}
