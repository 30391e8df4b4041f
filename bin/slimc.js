#!/usr/bin/env node
// The slimc command. TypeScript sources (slimc's own and users' model files) load through tsx.
import { register } from 'tsx/esm/api';

// `slimc ... | head` closes the pipe early: stop quietly, as command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
