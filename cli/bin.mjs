#!/usr/bin/env node
// The `edgeplane` command. tsx loads the TypeScript sources (cli/ and src/shared/) as they are: no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
