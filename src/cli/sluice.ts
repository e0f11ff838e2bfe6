#!/usr/bin/env node
// The `sluice` command. Compiled to dist/src/cli/sluice.js by `npm run build` (the bin,
// `npm start` and the image run that); from the sources: `node --import tsx src/cli/sluice.ts`.
import { dropHarmlessWarnings } from './harmless-warnings.ts';
import { main } from './main.ts';

dropHarmlessWarnings();
process.exitCode = await main(process.argv.slice(2));
