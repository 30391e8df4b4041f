// Where a compiled module's time goes: every step of the plan timed with model.profile(), the
// unpruned module against the pruned ones, grouped by kind of step (conv by kernel and stride,
// depthwise, pool, add, gather/copy, dense), each group's time next to its share of the MACs.
// A group whose time falls less than its MACs do is what keeps pruning from turning into speed.
//
//   npm run bench:profile -- --net resnet164 --ratios 0.4,0.7 --runs 50
//   npm run bench:profile -- --net densenet40 --top 15     # also the 15 slowest steps
//
// One process, one thread, batch 1; medians per step over --runs runs after one warm-up run.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../src/compiler/compile.ts';
import { cost } from '../src/ir/cost.ts';
import type { Graph, Node } from '../src/ir/types.ts';
import { benchNetwork } from './networks.ts';

interface StepTime {
  readonly step: string;
  readonly op: string;
  readonly microseconds: number;
}

interface Profiled {
  readonly label: string;
  readonly macs: number;
  readonly totalMicroseconds: number;
  /** Per group: summed step time (us), MACs and step count. */
  readonly groups: Map<string, { us: number; macs: number; steps: number }>;
  readonly slowest: readonly (StepTime & { group: string; macs: number })[];
}

/** The kind of a step, finer for convs: kernel and stride decide which XNNPACK path runs. */
function groupOf(step: StepTime, node: Node | undefined): string {
  // A gather that applies the batch norm after it is named after the norm (a 1x1 depthwise conv).
  if (step.op === 'gather' && node?.op === 'conv2d') return 'gather+norm';
  if (node !== undefined && node.op === 'conv2d') {
    const { kernel, strides } = node;
    const stride = strides[0] === 1 && strides[1] === 1 ? '' : `/${strides.join('x')}`;
    return `${step.op} ${kernel.join('x')}${stride}`;
  }
  return step.op === 'gather' || step.op === 'copy' ? 'gather/copy' : step.op;
}

async function profileModule(
  label: string,
  graph: Graph,
  slim: number | null,
  dir: string,
  x: Float32Array,
  runs: number,
): Promise<Profiled> {
  const compiled = compileGraph(graph, slim === null ? {} : { slim: { ratio: slim } });
  await writeCompiled(compiled, graph, dir, { check: false });
  const model = (await (await importEmittedModule(dir)).load()) as unknown as {
    info: { runtime: { name: string; note?: string } };
    profile(x: Float32Array, opts: { runs: number }): Promise<StepTime[]>;
    dispose(): void;
  };
  try {
    if (model.info.runtime.name !== 'plan') throw new Error(`${label} runs the engine path: ${model.info.runtime.note}`);
    const steps = await model.profile(x, { runs });
    const lowered = compiled.lowered;
    const nodes = new Map(lowered.nodes.map((n) => [n.id, n]));
    const macsOf = new Map(cost(lowered).nodes.map((c) => [c.id, c.macs]));
    const groups = new Map<string, { us: number; macs: number; steps: number }>();
    const annotated = steps.map((s) => {
      const group = groupOf(s, nodes.get(s.step));
      const macs = macsOf.get(s.step) ?? 0;
      const g = groups.get(group) ?? { us: 0, macs: 0, steps: 0 };
      groups.set(group, { us: g.us + s.microseconds, macs: g.macs + macs, steps: g.steps + 1 });
      return { ...s, group, macs };
    });
    return {
      label,
      macs: cost(lowered).macs,
      totalMicroseconds: steps.reduce((t, s) => t + s.microseconds, 0),
      groups,
      slowest: [...annotated].sort((a, b) => b.microseconds - a.microseconds),
    };
  } finally {
    model.dispose();
  }
}

const fixed = (v: number, digits = 0) => v.toFixed(digits);

function table(base: Profiled, others: readonly Profiled[]): string {
  const groups = [...new Set([base, ...others].flatMap((p) => [...p.groups.keys()]))].sort(
    (a, b) => (base.groups.get(b)?.us ?? 0) - (base.groups.get(a)?.us ?? 0),
  );
  const head = ['group', `${base.label} us`, `${base.label} MMACs`];
  for (const o of others) head.push(`${o.label} us`, `${o.label} MMACs`, 'time cut', 'MAC cut');
  const rows = groups.map((name) => {
    const b = base.groups.get(name) ?? { us: 0, macs: 0, steps: 0 };
    const cells = [`${name} (${b.steps})`, fixed(b.us), fixed(b.macs / 1e6, 2)];
    for (const o of others) {
      const g = o.groups.get(name) ?? { us: 0, macs: 0, steps: 0 };
      cells.push(
        fixed(g.us),
        fixed(g.macs / 1e6, 2),
        g.us > 0 ? `${fixed(b.us / g.us, 2)}x` : '-',
        g.macs > 0 ? `${fixed(b.macs / g.macs, 2)}x` : '-',
      );
    }
    return cells;
  });
  const total = ['total', fixed(base.totalMicroseconds), fixed(base.macs / 1e6, 2)];
  for (const o of others) {
    total.push(
      fixed(o.totalMicroseconds),
      fixed(o.macs / 1e6, 2),
      `${fixed(base.totalMicroseconds / o.totalMicroseconds, 2)}x`,
      `${fixed(base.macs / o.macs, 2)}x`,
    );
  }
  return [head, head.map(() => '---'), ...rows, total].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      net: { type: 'string', default: 'resnet164' },
      ratios: { type: 'string', default: '0.4,0.7' },
      runs: { type: 'string', default: '30' },
      top: { type: 'string', default: '0' },
    },
  });
  const { net, graph, x } = benchNetwork(a.net);
  const scratch = join(import.meta.dirname, '..', 'tmp', `profile-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  try {
    const runs = Number(a.runs);
    const base = await profileModule('unpruned', graph, null, join(scratch, 'unpruned'), x, runs);
    const others: Profiled[] = [];
    for (const ratio of a.ratios.split(',').map(Number)) {
      others.push(await profileModule(`@${ratio}`, graph, ratio, join(scratch, `ratio-${ratio}`), x, runs));
    }
    console.log(`${net}, batch 1, one thread, median of ${runs} runs per step (sum of step medians)\n`);
    console.log(table(base, others));
    const top = Number(a.top);
    for (const p of top > 0 ? [base, ...others] : []) {
      console.log(`\nslowest steps, ${p.label}:`);
      for (const s of p.slowest.slice(0, top))
        console.log(
          `  ${fixed(s.microseconds, 1).padStart(8)} us  ${(s.macs / 1e6).toFixed(3).padStart(8)} MMACs  ${s.group.padEnd(16)} ${s.step}`,
        );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
