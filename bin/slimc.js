#!/usr/bin/env node
// The slimc command: runs the built JavaScript in dist/ (`npm run build`; `npm install` and
// `npm pack` build it). TypeScript model files are loaded through tsx when one is given.

// `slimc ... | head` closes the pipe early: stop quietly, as command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/dist/cli/main.js')) throw e;
  process.stderr.write('slimc: error: dist/ is missing; build it with `npm run build` in the slimc checkout\n');
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
