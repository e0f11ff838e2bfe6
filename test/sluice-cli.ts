// How tests start the `sluice` command: from the TypeScript sources through tsx's loader, so a
// test needs no build. The compiled bin (dist/src/cli/sluice.js) is checked by test/integration/build.
export const SLUICE_CLI: readonly string[] = ['--import', 'tsx', 'src/cli/sluice.ts'];
