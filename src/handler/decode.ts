import { DecodeError } from '../errors.ts';
import type { HandlerWrapper } from './handler.ts';

/**
 * `handler.decode: json`: parses the payload before the handler runs and hands the value over
 * as `context.value`. A payload that is not JSON throws a non-retriable DecodeError, so it goes
 * straight to the dead-letter destination and the stream goes on.
 */
export function withJsonDecode(): HandlerWrapper {
  return (next) => (event, context) => {
    let value: unknown;
    try {
      value = JSON.parse(event.payload.toString('utf8'));
    } catch (error) {
      throw new DecodeError(`payload of ${event.id} is not JSON: ${(error as Error).message}`, error);
    }
    context.value = value;
    return next(event, context);
  };
}
