import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults, FaultState } from './fault-state.ts';

/** Largest `PUT /faults` body read: a few numbers. */
const MAX_BODY = 4096;

/**
 * `/faults` on the metrics server, present only with `faults.enabled`: GET shows the faults in
 * force, PUT changes some (a JSON object of {@link Faults} fields, e.g. `{"handlerErrorRate":0.2}`),
 * DELETE turns them all off. A bad body gets 400 naming the field; nothing changes then.
 */
export function faultRoute(state: FaultState): (request: IncomingMessage, response: ServerResponse) => void {
  const reply = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  };
  const current = () => ({ faults: state.faults, active: state.active() });
  return (request, response) => {
    if (request.method === 'GET') return reply(response, 200, current());
    if (request.method === 'DELETE') {
      state.clear();
      return reply(response, 200, current());
    }
    if (request.method !== 'PUT' && request.method !== 'POST') {
      response.setHeader('allow', 'GET, PUT, POST, DELETE');
      return reply(response, 405, { error: `${request.method} /faults: use GET, PUT or DELETE` });
    }
    let body = '';
    let tooLarge = false;
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) tooLarge = true;
    });
    request.on('end', () => {
      if (tooLarge) return reply(response, 413, { error: `body over ${MAX_BODY} bytes` });
      let change: unknown;
      try {
        change = JSON.parse(body);
      } catch (error) {
        return reply(response, 400, { error: `body is not JSON: ${(error as Error).message}` });
      }
      if (change === null || typeof change !== 'object' || Array.isArray(change))
        return reply(response, 400, { error: 'body must be a JSON object of faults, e.g. {"handlerErrorRate":0.2}' });
      try {
        state.set(change as Partial<Faults>);
      } catch (error) {
        return reply(response, 400, { error: (error as Error).message });
      }
      reply(response, 200, current());
    });
  };
}
