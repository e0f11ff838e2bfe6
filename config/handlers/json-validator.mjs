// JSON validator: an example Sluice handler that lets through only well-formed events.
//
//   handler:
//     module: ./config/handlers/json-validator.mjs   # relative paths start at the directory sluice runs in
//     decode: json                                   # optional: Sluice parses first; this handler reuses the value
//   deadLetter:
//     type: file                                     # or broker: where rejected events go
//
// An event passes when its payload is a JSON object that has every required field. Any other
// event is rejected with an error marked `retriable: false`: retrying cannot fix a payload, so
// Sluice skips the remaining tries, writes the event to the dead-letter destination with the
// reason in its `sluice-error` header, and acks it; the stream goes on. (Without a dead-letter
// destination the event would be nacked and come back, so configure one.)
//
// Environment, read once when the module loads:
//   VALIDATE_REQUIRED_FIELDS=id,type,amount   top-level fields every event needs (default: none;
//                                             any JSON object passes)
//
// To validate and then do your own work, import `validate` into your handler:
//   import { validate, requiredFields } from './json-validator.mjs';
//   const required = requiredFields();
//   export default async (event, context) => { const order = validate(event, context, required); … };

/** A payload that no retry can fix: Sluice sends it straight to the dead-letter destination. */
export class InvalidEvent extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidEvent';
    this.retriable = false;
  }
}

/** The required fields named by VALIDATE_REQUIRED_FIELDS (comma-separated; blanks ignored). */
export function requiredFields(env = process.env) {
  return (env.VALIDATE_REQUIRED_FIELDS ?? '')
    .split(',')
    .map((field) => field.trim())
    .filter(Boolean);
}

/**
 * The event's payload as a JSON object (the value Sluice decoded with `handler.decode: json`, else
 * the payload parsed here), or an InvalidEvent saying what is wrong with it.
 */
export function validate(event, context, required = []) {
  let value = context?.value;
  if (value === undefined) {
    try {
      value = JSON.parse(event.payload.toString('utf8'));
    } catch (error) {
      throw new InvalidEvent(`payload of ${event.id} is not JSON: ${error.message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEvent(
      `payload of ${event.id} is not a JSON object (found ${Array.isArray(value) ? 'an array' : String(value === null ? null : typeof value)})`,
    );
  }
  const missing = required.filter((field) => value[field] === undefined || value[field] === null);
  if (missing.length > 0) throw new InvalidEvent(`payload of ${event.id} lacks required field(s): ${missing.join(', ')}`);
  return value;
}

const required = requiredFields();

export default function jsonValidator(event, context) {
  context.value = validate(event, context, required);
}
