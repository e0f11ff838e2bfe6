import { runContractSuite } from '../../contract/universal-suite.ts';
import { describeWithPubSub, pubsubTestAdapter, pubsubTestConfig } from './helpers.ts';

// On the emulator and on pstest: the contract does not depend on one fake's reading of the API.
describeWithPubSub('pubsub adapter', (endpoint, implementation) => {
  runContractSuite({
    name: 'pubsub',
    timeoutMs: 30_000,
    // pstest delivers an ordered subscription's next message of a key only once the previous one is acked.
    deliversUnackedBacklogOfKey: implementation !== 'pstest',
    notApplicable:
      implementation === 'pstest'
        ? {
            'reports a deleted destination through sink.fatal':
              'pstest keeps a streaming pull open on a deleted subscription (no NOT_FOUND within 60 s); Pub/Sub and its emulator end it',
          }
        : {},
    async setup() {
      // A fresh topic and subscription per test, ordered: the suite checks per-key order.
      const config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: true } });
      const adapter = pubsubTestAdapter(config);
      const admin = adapter.createAdmin();
      await admin.createDestination(config.topic);
      return {
        adapter,
        destination: config.topic,
        async teardown() {
          await admin.deleteDestination(config.topic);
          await admin.close();
        },
      };
    },
  });
});
