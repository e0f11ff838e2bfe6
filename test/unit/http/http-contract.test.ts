import { Registry } from 'prom-client';
import { httpConfigSchema } from '../../../adapters/http/config.ts';
import { HttpAdapter } from '../../../adapters/http/http-adapter.ts';
import { runContractSuite } from '../../contract/universal-suite.ts';
import { silent } from '../helpers.ts';

/**
 * The HTTP source against the universal contract, its events published by the adapter's own
 * publisher (NDJSON POSTs to the source's port). What does not apply to a source that is not a
 * broker is listed with the reason; the client's retry stands in for the broker's redelivery.
 */
runContractSuite({
  name: 'http',
  timeoutMs: 10_000,
  notApplicable: {
    'does not deliver again while a delivery is pending (backpressure)':
      'the one-delivery-at-a-time rule holds (adapters/http/delivery-lane.ts), but a request is delivered whole so that 429 means none of it was taken, so a batch can exceed maxBatch, and the publisher awaits the response',
    'delivers a nacked event again':
      'a nack is reported to the client (503 listing the events), which sends them again; the server keeps nothing',
    'after a restart, redelivers what was not acked and not what was':
      'nothing persists in the server: the client holds an event until its 2xx and sends it again after a restart',
  },
  async setup() {
    const config = httpConfigSchema.parse({ host: '127.0.0.1', port: 0 });
    return { adapter: new HttpAdapter(config, silent, new Registry()), destination: 'http', teardown: async () => {} };
  },
});
