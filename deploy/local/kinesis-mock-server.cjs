// kinesis-mock (npm package kinesis-local) on loopback only.
// The mock binds its plain-HTTP and TLS (HTTP/2) ports on 0.0.0.0 with no setting to change
// that, so this wrapper pins every listen() without an explicit host to 127.0.0.1 before
// loading it. Ports and the certificate path come from the environment
// (KINESIS_MOCK_PLAIN_PORT, KINESIS_MOCK_TLS_PORT, KINESIS_MOCK_CERT_PATH), see its README.
'use strict';
const net = require('node:net');
const path = require('node:path');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  else if (args[0] && typeof args[0] === 'object' && args[0].host === undefined && args[0].path === undefined) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};

// The self-signed certificate ships beside main.js; the mock looks for it in the working
// directory unless told where it is.
const main = require.resolve('kinesis-local/main.js');
process.env.KINESIS_MOCK_CERT_PATH ??= path.join(path.dirname(main), 'server.json');
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
require(main);
