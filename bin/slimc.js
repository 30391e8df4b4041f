#!/usr/bin/env node
// The slimc command. TypeScript sources (slimc's own and users' model files) load through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
