// `npm run bench:startup`: how long `slimc --help` takes to start, as a ratio against bare
// `node -e 0` measured in the same process: both run alternately, median of many runs after
// warm-up. The target is at most 4x. Needs dist/ (`npm run build`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.STARTUP_RUNS ?? 21);
const WARMUP = 3;
const TARGET = 4;
const bin = fileURLToPath(new URL('../bin/slimc.js', import.meta.url));

const cases = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'slimc --help': [process.execPath, [bin, '--help']],
};

function millis([cmd, args]) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const [name, c] of Object.entries(cases)) {
    const ms = millis(c);
    if (i >= WARMUP) times[name].push(ms);
  }
}
const base = median(times['node -e 0']);
const help = median(times['slimc --help']);
const ratio = help / base;
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(14)} median ${median(xs).toFixed(1)} ms over ${xs.length} runs`);
console.log(`slimc --help / node -e 0 = ${ratio.toFixed(2)}x (target at most ${TARGET}x): ${ratio <= TARGET ? 'ok' : 'OVER'}`);
process.exitCode = ratio <= TARGET ? 0 : 1;
