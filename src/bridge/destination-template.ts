import type { SourceEvent } from '../broker/contract.ts';
import { SluiceError } from '../errors.ts';

/**
 * The destination template of `handler.forward.destination`: literal text with placeholders
 *
 *   {key}            the event's key (Kafka key, Kinesis partition key, Pub/Sub ordering key)
 *   {source}         the topic, stream or subscription the event was read from
 *   {header.<name>}  the value of one of the event's headers (Kafka headers, Pub/Sub attributes)
 *
 * It is compiled once at start-up (an unknown placeholder or an unclosed brace is a config error
 * then, not a surprise per event). An event that lacks what a placeholder needs (no key, no such
 * header, an empty value) cannot be routed: {@link UnroutableEventError}, which is not retriable,
 * so the event goes to the dead-letter destination at once instead of being retried or lost.
 */
export type DestinationOf = (event: SourceEvent) => string;

/** An event whose destination template cannot be filled in. Poison: dead-lettered at once. */
export class UnroutableEventError extends SluiceError {
  constructor(template: string, missing: string) {
    super(`cannot route to destination '${template}': the event has no ${missing}`, { retriable: false });
  }
}

type Part = { literal: string } | { key: true } | { source: true } | { header: string };

/** Parses `template`; throws an Error saying what is wrong (the caller names the config key). */
export function compileDestination(template: string): DestinationOf {
  const parts = parseTemplate(template);
  if (parts.length === 1 && 'literal' in parts[0]!) {
    const fixed = parts[0].literal;
    return () => fixed;
  }
  return (event) => {
    let out = '';
    for (const part of parts) {
      if ('literal' in part) out += part.literal;
      else if ('source' in part) out += event.source;
      else if ('key' in part) {
        if (!event.key) throw new UnroutableEventError(template, 'key');
        out += event.key;
      } else {
        const value = event.headers[part.header];
        if (!value) throw new UnroutableEventError(template, `header ${part.header}`);
        out += value;
      }
    }
    return out;
  };
}

export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close >= 0 && (open < 0 || close < open)) throw new Error(`'}' without '{' in '${template}'`);
    if (open < 0) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    if (close < 0) throw new Error(`unclosed '{' in '${template}'`);
    const name = rest.slice(open + 1, close);
    if (name === 'key') parts.push({ key: true });
    else if (name === 'source') parts.push({ source: true });
    else if (name.startsWith('header.') && name.length > 'header.'.length) parts.push({ header: name.slice('header.'.length) });
    else throw new Error(`unknown placeholder {${name}} in '${template}' (known: {key}, {source}, {header.<name>})`);
    rest = rest.slice(close + 1);
  }
  if (parts.length === 0) throw new Error('the destination is empty');
  return parts;
}
