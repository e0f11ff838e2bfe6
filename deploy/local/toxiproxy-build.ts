// `npm run toxiproxy:build`: builds toxiproxy into the cache unless it is there (toxiproxy.ts),
// and prints where it is and how long it took. CI runs it before the tests so the build's time
// shows on its own line instead of inside a test's timeout.
import { TOXIPROXY_VERSION, toxiproxyServer } from './toxiproxy.ts';

const started = Date.now();
const binary = toxiproxyServer((msg) => console.log(msg));
console.log(`toxiproxy ${TOXIPROXY_VERSION}: ${binary} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
