import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaAdapter } from './kafka-adapter.ts';

export { preflight } from './preflight.ts';
export { checkResources } from './resource-check.ts';

export function createAdapter(config: KafkaConfig, deps: AdapterDeps): ToolingAdapter {
  return new KafkaAdapter(config, deps.logger, deps.registry, deps.audit, deps.deadLetterTopics);
}

/** Reads topic `destination` as consumer group `group` (a topic pattern is dropped). */
export function retarget(config: KafkaConfig, destination: string, group: string): KafkaConfig {
  return { ...config, topics: [destination], topicPattern: undefined, group };
}
