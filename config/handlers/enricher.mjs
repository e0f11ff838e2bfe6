// Enricher: an example Sluice handler that adds fields to each JSON event, then logs it or, with
// FORWARD_URL set, POSTs the enriched JSON to an HTTP endpoint (as forwarder.mjs does).
//
//   handler:
//     module: ./config/handlers/enricher.mjs    # relative paths start at the directory sluice runs in
//     decode: json                              # optional: Sluice parses first; this handler reuses the value
//   deadLetter: { type: file }                  # or broker: events that are not JSON objects
//
// Fields added (an existing field of the same name is kept, not overwritten):
//   receivedAt   when Sluice handled the event (ISO 8601)
//   publishedAt  the broker's timestamp of the event (ISO 8601)
//   source, partition, offset, broker   where it was read (topic / stream / subscription, partition or
//                                       shard, offset or sequence number, broker type)
//   and the fields of ENRICH_FIELDS.
//
// Environment, read once when the module loads:
//   ENRICH_FIELDS='{"env":"prod","region":"eu-west-1"}'   a JSON object of constant fields to add
//   FORWARD_URL, FORWARD_TIMEOUT_MS                       forward instead of logging (see forwarder.mjs)
//
// A payload that is not a JSON object is rejected as non-retriable and dead-lettered (see
// json-validator.mjs); forwarding failures are retried or dead-lettered as forwarder.mjs describes.
import { validate } from './json-validator.mjs';
import { forward, forwardSettings } from './lib/forward.mjs';

/** The constant fields of ENRICH_FIELDS (a JSON object). */
export function constantFields(env = process.env) {
  if (!env.ENRICH_FIELDS) return {};
  let fields;
  try {
    fields = JSON.parse(env.ENRICH_FIELDS);
  } catch (error) {
    throw new Error(`ENRICH_FIELDS is not JSON: ${error.message}`);
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw new Error('ENRICH_FIELDS must be a JSON object');
  return fields;
}

/** The event's JSON object with the fields above added (fields it already has are kept). */
export function enrich(value, event, context, fields = {}, now = new Date()) {
  return {
    receivedAt: now.toISOString(),
    publishedAt: new Date(event.timestamp).toISOString(),
    source: event.source,
    partition: event.position.partition,
    offset: event.position.offset,
    broker: context.broker,
    ...fields,
    ...value,
  };
}

const fields = constantFields();
const forwarding = forwardSettings();

export default async function enricher(event, context) {
  const enriched = enrich(validate(event, context), event, context, fields);
  if (forwarding) await forward(forwarding, event, JSON.stringify(enriched), 'application/json');
  else context.logger.info({ id: event.id, event: enriched }, 'enriched event');
}
