import type { SluiceConfig } from '../config/schema.ts';
import { matchesDestination } from '../util/destination-pattern.ts';

/**
 * Which of the source broker's topics are Sluice's own dead-letter destinations, so a source that
 * reads by pattern leaves them out (else it would read its dead letters back, a loop): the names
 * `deadLetter.destination` can produce (`{source}` = one or more characters, a fixed name exactly
 * itself), when dead letters go to the source's own broker. Dead letters to a file, to none or to
 * a broker of another type never land among the source's topics: nothing is excluded then.
 */
export function deadLetterTopicsOf(config: SluiceConfig): (topic: string) => boolean {
  const dlq = config.deadLetter;
  if (dlq.type !== 'broker') return () => false;
  if (dlq.broker.type !== undefined && dlq.broker.type !== config.broker.type) return () => false;
  return matchesDestination(dlq.destination);
}
