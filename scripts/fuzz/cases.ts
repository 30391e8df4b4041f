// The fuzzer's cases: each a family, the files to write and the model file to load, all made from
// the seed corpus (a small .slim model with its weights, every op in one graph, the ONNX test
// fixtures) by the mutations of mutate.ts. Case k of a run with seed s is the same in every run.
import { readFileSync } from 'node:fs';
import { printGraph } from '../../src/ir/text/printer.ts';
import { decodeWeights, encodeWeights } from '../../src/ir/weights_file.ts';
import { Rng } from '../../src/util/random.ts';
import { allOpsGraph } from '../../test/helpers/all_ops_graph.ts';
import { below, hostileNames, mutateOnnx, mutateText, mutateWeights, pick } from './mutate.ts';

export const FAMILIES = ['slim-text', 'weights', 'onnx', 'hostile-names', 'onnx-file-name'] as const;
export type Family = (typeof FAMILIES)[number];

export interface FuzzCase {
  readonly index: number;
  readonly family: Family;
  /** File name (inside the case's directory) to bytes. */
  readonly files: Readonly<Record<string, Uint8Array>>;
  /** The model file inspect and compile read. */
  readonly model: string;
}

interface SlimSeed {
  readonly text: string;
  readonly weights: Uint8Array;
}

export interface Corpus {
  readonly slim: readonly SlimSeed[];
  readonly onnx: readonly Uint8Array[];
}

const file = (path: string) => new Uint8Array(readFileSync(new URL(`../../${path}`, import.meta.url)));
const ONNX_SEEDS = ['vgg', 'mobilenet', 'densenet', 'selectresnet', 'postresnet'];

export function loadCorpus(): Corpus {
  const allOps = allOpsGraph();
  // Its batch-norm variances are random normal samples: made positive, so that it compiles.
  for (const [name, w] of Object.entries(allOps.weights))
    if (name.endsWith('.var')) w.data.forEach((v, i) => (w.data[i] = Math.abs(v) + 0.1));
  return {
    slim: [
      { text: new TextDecoder().decode(file('examples/mnist/sparse.slim')), weights: file('examples/mnist/sparse.weights.bin') },
      { text: printGraph(allOps), weights: encodeWeights(allOps.weights) },
    ],
    onnx: ONNX_SEEDS.map((name) => file(`test/fixtures/onnx/${name}.onnx`)),
  };
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Every value, weight and graph name of a textual IR replaced by a hostile one (consistently). */
function withHostileNames(seed: SlimSeed, rng: Rng): { text: string; weights: Uint8Array } {
  const names = hostileNames(`h${below(rng, 1000)}`).filter((n) => n !== '__proto__' || below(rng, 4) === 0);
  const renamed = new Map<string, string>();
  const fresh = (old: string) => {
    if (!renamed.has(old)) renamed.set(old, `${pick(rng, names)}${renamed.size}`);
    return renamed.get(old) as string;
  };
  // A batch norm names a family of weights by prefix (@bn for @bn.gamma ...): the prefix is renamed.
  const family = (name: string) => {
    const m = /^(.*)\.(gamma|beta|mean|var)$/.exec(name);
    return m ? `${fresh(m[1])}.${m[2]}` : fresh(name);
  };
  const token = /([%@])("(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_.]+)/g;
  const text = seed.text
    // The graph name carries every kind of break at once; the other names one each.
    .replace(/^graph ("(?:[^"\\]|\\.)*"|\S+?)\(/, () => `graph ${JSON.stringify(names.join(''))}(`)
    .replace(token, (_, sigil: string, raw: string) => {
      const name = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
      return sigil + JSON.stringify(sigil === '%' ? fresh(`%${name}`) : family(name));
    });
  // The weights file under the new names (the data unchanged).
  const weights = decodeWeights(seed.weights);
  return { text, weights: encodeWeights(Object.fromEntries(Object.entries(weights).map(([name, w]) => [family(name), w]))) };
}

/** Case `index` of the run seeded `seed`. */
export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = new Rng((seed * 0x9e3779b1 + index * 0x85ebca6b + 1) >>> 0);
  const family = FAMILIES[index % FAMILIES.length];
  const slim = pick(rng, corpus.slim);
  const onnx = pick(rng, corpus.onnx);
  const times = 1 + below(rng, 3);
  switch (family) {
    case 'slim-text': {
      let text = slim.text;
      for (let k = 0; k < times; k++) text = mutateText(text, rng);
      return { index, family, files: { 'model.slim': encode(text), 'model.weights.bin': slim.weights }, model: 'model.slim' };
    }
    case 'weights': {
      let weights = slim.weights;
      for (let k = 0; k < times; k++) weights = mutateWeights(weights, rng);
      return { index, family, files: { 'model.slim': encode(slim.text), 'model.weights.bin': weights }, model: 'model.slim' };
    }
    case 'onnx': {
      let bytes = onnx;
      for (let k = 0; k < times; k++) bytes = mutateOnnx(bytes, rng);
      return { index, family, files: { 'model.onnx': bytes }, model: 'model.onnx' };
    }
    case 'hostile-names': {
      const hostile = withHostileNames(slim, rng);
      return { index, family, files: { 'model.slim': encode(hostile.text), 'model.weights.bin': hostile.weights }, model: 'model.slim' };
    }
    case 'onnx-file-name': {
      // The graph takes its name from the file: a name no file system refuses but code would.
      const name = `${pick(rng, hostileNames(`f${below(rng, 1000)}`))
        .replaceAll('/', '\u2215')
        .replaceAll('\u0000', '')}.onnx`;
      return { index, family, files: { [name]: onnx }, model: name };
    }
  }
}
