// A handler for the image test: every event fails for good, so each one is dead-lettered (to the
// image config's /tmp/sluice/dead-letters.jsonl) without retries.
export default async function alwaysFails(event) {
  const error = new Error(`always fails: ${event.id}`);
  error.retriable = false;
  throw error;
}
