import { NotFoundError } from '../../src/errors.ts';
import type { KafkaConfig } from './config.ts';

/**
 * The topics a Kafka source reads, given those that exist at the brokers: the configured list
 * (each must exist), or those matching `topicPattern`, leaving out internal `__` topics and those
 * `isDeadLetterTopic` names: Sluice's own dead-letter destinations (the names
 * `deadLetter.destination` can produce, src/dead-letter/dead-letter-topics.ts), which it would
 * otherwise read back, a loop. Any other topic the pattern matches is read, `x.dlq` included.
 * Throws a NotFoundError naming the setting when nothing fits.
 */
export function topicsToRead(
  config: Pick<KafkaConfig, 'brokers' | 'topics' | 'topicPattern'>,
  existing: readonly string[],
  isDeadLetterTopic: (topic: string) => boolean = () => false,
): string[] {
  const brokers = config.brokers.join(',');
  if (config.topicPattern) {
    const pattern = new RegExp(config.topicPattern);
    const matched = existing.filter((topic) => !topic.startsWith('__') && !isDeadLetterTopic(topic) && pattern.test(topic)).sort();
    if (matched.length === 0) {
      throw new NotFoundError(`kafka: no topic at ${brokers} matches broker.kafka.topicPattern /${config.topicPattern}/`);
    }
    return matched;
  }
  const topics = config.topics!;
  const missing = topics.filter((topic) => !existing.includes(topic));
  if (missing.length > 0) {
    throw new NotFoundError(
      `kafka: topic ${missing.join(', ')} does not exist at ${brokers} (or is not visible to this user); create it or fix broker.kafka.topics`,
    );
  }
  return topics;
}
