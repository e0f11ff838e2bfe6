/**
 * The names a destination template can produce, as a predicate: `{source}` stands for one or
 * more characters, everything else is literal, and the whole name must match. A template without
 * `{source}` (a fixed name) matches exactly that name.
 *
 * Sources that read by pattern (Kafka `topicPattern`) use it to leave out the dead-letter
 * destinations Sluice itself writes to: reading them back would loop dead letters forever.
 */
export function destinationPattern(template: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${template.split('{source}').map(literal).join('.+')}$`);
}

/** {@link destinationPattern} as a predicate on names. */
export function matchesDestination(template: string): (name: string) => boolean {
  const pattern = destinationPattern(template);
  return (name) => pattern.test(name);
}
