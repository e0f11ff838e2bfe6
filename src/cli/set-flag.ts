/** `--set key.path=value` (repeatable) of run, config check and bench: over the file and the environment. */
export const setFlag = [
  '--set <key.path=value>',
  'set a config key, over the file and SLUICE_* variables (repeatable): --set queue.maxEvents=5000',
  (value: string, previous: string[] = []) => [...previous, value],
] as const;
