// How the fuzzer makes hostile inputs from good ones: text edits of the textual IR, byte edits and
// manifest edits of weights files, byte edits and structured edits of ONNX files, and names built
// to break out of whatever they are pasted into (each carrying code that would leave a marker
// file if it ever ran). Every mutation is a function of a seeded Rng, so a case can be replayed.
import { decodeModel, encodeModel, type OnnxModel } from '../../src/frontends/onnx/proto.ts';
import { WEIGHTS_MAGIC } from '../../src/ir/weights_file.ts';
import type { Rng } from '../../src/util/random.ts';

/** Numbers that sit on edges: zero, negatives, huge, not finite, past 32 and 53 bits. */
export const EDGE_NUMBERS = [
  '0',
  '-1',
  '1',
  '2',
  '3',
  '7',
  '65',
  '255',
  '65537',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '1e400',
  '-1e400',
  'nan',
  'inf',
  '-inf',
  '1e-45',
  '0.5',
  '-0',
  '100000',
];

/** The environment variable naming the file injected code writes. */
export const MARKER_VARIABLE = 'SLIMC_FUZZ_MARKER';

/**
 * Names that end a comment, a string, a line or a script element, each followed by `code`: pasted
 * raw anywhere in model.js or model.d.ts, one of them runs it. Shared with the hostile-names test.
 */
export function injectionPayloads(tag: string, code: string): string[] {
  return [
    `${tag}\u2028${code}//`,
    `${tag}\u2029${code}//`,
    `${tag}\n${code}//`,
    `${tag}\r${code}//`,
    `${tag}*/ ${code} /*`,
    `${tag}"; ${code} "`,
    `${tag}'; ${code} '`,
    `${tag}\`; ${code} \``,
    `${tag}\${${code}}`,
    `${tag}\\`,
    `${tag}</script><script>${code}</script>`,
  ];
}

/** Hostile names for the fuzzer: the injection payloads (their code leaves the marker file), and more. */
export function hostileNames(tag: string): string[] {
  // The marker's path comes from the environment, so that the code holds no '/' (file names).
  const code = `process.getBuiltinModule('fs').writeFileSync(process.env.${MARKER_VARIABLE}, '${tag}');`;
  return [
    ...injectionPayloads(tag, code),
    `${tag}\u0085\u00a0\ud800\u0000`,
    'constructor',
    'toString',
    '__proto__',
    `${tag} }; declare const x: number; interface Y {`,
  ];
}

/** An integer in [0, n). */
export const below = (rng: Rng, n: number): number => rng.int(0, Math.max(0, n - 1));

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[below(rng, items.length)];

/** One random edit of a text: replace, delete, duplicate or insert characters, lines or tokens. */
export function mutateText(text: string, rng: Rng): string {
  const lines = text.split('\n');
  const kind = below(rng, 9);
  const at = below(rng, Math.max(1, text.length));
  switch (kind) {
    case 0: // A number of an attribute list ({kernel=3x3, eps=1e-05}) replaced by an edge number.
    case 1: {
      const attributes = [...text.matchAll(/\{[^}\n]*\}/g)];
      if (attributes.length === 0) return text;
      const list = pick(rng, attributes);
      const numbers = [...list[0].matchAll(/(?<=[=x,\[])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g)];
      if (numbers.length === 0) return text;
      const m = pick(rng, numbers);
      const start = (list.index ?? 0) + (m.index ?? 0);
      return text.slice(0, start) + pick(rng, EDGE_NUMBERS) + text.slice(start + m[0].length);
    }
    case 7: {
      // Any number (shapes, digests' digits) replaced by an edge number.
      const numbers = [...text.matchAll(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g)];
      if (numbers.length === 0) return text;
      const m = pick(rng, numbers);
      return text.slice(0, m.index) + pick(rng, EDGE_NUMBERS) + text.slice((m.index ?? 0) + m[0].length);
    }
    case 2: {
      // A name replaced by a hostile (quoted) name.
      const names = [...text.matchAll(/[%@][A-Za-z0-9_.]+/g)];
      if (names.length === 0) return text;
      const m = pick(rng, names);
      const name = pick(rng, hostileNames(`n${below(rng, 1000)}`));
      return text.slice(0, m.index) + m[0][0] + JSON.stringify(name) + text.slice((m.index ?? 0) + m[0].length);
    }
    case 3: // A line deleted.
      lines.splice(below(rng, lines.length), 1);
      return lines.join('\n');
    case 4: {
      // A line duplicated (redefinitions, duplicate outputs and declarations).
      const i = below(rng, lines.length);
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
    case 5: {
      // Two lines swapped (use before definition).
      const [i, j] = [below(rng, lines.length), below(rng, lines.length)];
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join('\n');
    }
    case 6: // A character deleted or replaced.
      return text.slice(0, at) + (below(rng, 2) === 0 ? '' : pick(rng, [...'{}[](),:=->%@#"\\x_ 0\n\u2028'])) + text.slice(at + 1);
    default: // Cut short.
      return text.slice(0, at);
  }
}

/** One random edit of a weights file: bit flips, truncation, or an edit of its JSON manifest. */
export function mutateWeights(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(bytes);
  const kind = below(rng, 5);
  if (kind === 0) {
    for (let k = 0, n = 1 + below(rng, 4); k < n; k++) out[below(rng, out.length)] ^= 1 << below(rng, 8);
    return out;
  }
  if (kind === 1) return out.slice(0, below(rng, out.length));
  // The manifest: JSON after the 16-byte header; edited and written back with its new length.
  const view = new DataView(out.buffer);
  // An earlier truncation may have left less than the header.
  if (out.length < 16 || new TextDecoder().decode(out.subarray(0, 8)) !== WEIGHTS_MAGIC) return out;
  const length = view.getUint32(12, true);
  let manifest: { tensors: { name: unknown; shape: unknown; offset: unknown; byteLength: unknown }[] };
  try {
    manifest = JSON.parse(new TextDecoder().decode(out.subarray(16, 16 + length)));
  } catch {
    return out;
  }
  if (!Array.isArray(manifest.tensors) || manifest.tensors.length === 0) return out;
  const t = pick(rng, manifest.tensors);
  const edge = () =>
    Number(
      pick(
        rng,
        EDGE_NUMBERS.filter((n) => Number.isFinite(Number(n))),
      ),
    );
  if (kind === 2) t.name = pick(rng, hostileNames(`w${below(rng, 1000)}`));
  else if (kind === 3) t.shape = Array.isArray(t.shape) && t.shape.length > 0 ? t.shape.map((d, i) => (i === 0 ? edge() : d)) : [edge()];
  else if (below(rng, 2) === 0) t.offset = edge();
  else manifest.tensors.push({ ...t });
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  // The data keeps its place when the new manifest fits in the old one's padded space.
  if (json.length > length) return out;
  const padded = new Uint8Array(length).fill(0x20);
  padded.set(json);
  out.set(padded, 16);
  return out;
}

/** One random edit of an ONNX file: bytes, or (decoded) attributes, names, outputs and dims. */
export function mutateOnnx(bytes: Uint8Array, rng: Rng): Uint8Array {
  const kind = below(rng, 6);
  if (kind === 0) {
    const out = Uint8Array.from(bytes);
    for (let k = 0, n = 1 + below(rng, 4); k < n; k++) out[below(rng, out.length)] = below(rng, 256);
    return out;
  }
  if (kind === 1) return bytes.slice(0, below(rng, bytes.length));
  let model: OnnxModel;
  try {
    model = decodeModel(bytes, 'seed.onnx');
  } catch {
    return bytes;
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0) return bytes;
  const node = pick(rng, graph.node);
  const edge = () =>
    Number(
      pick(
        rng,
        EDGE_NUMBERS.filter((n) => Number.isSafeInteger(Number(n))),
      ),
    );
  if (kind === 2) {
    // An integer attribute (kernel_shape, strides, dilations, pads, group, axis) set to an edge.
    const ints = node.attribute.filter((a) => a.ints.length > 0 || a.i !== undefined);
    if (ints.length === 0) return bytes;
    const a = pick(rng, ints);
    if (a.ints.length > 0) a.ints[below(rng, a.ints.length)] = edge();
    else a.i = edge();
  } else if (kind === 3) {
    // Every node, value and output name hostile: what the emitted module and model.d.ts carry.
    const names = hostileNames(`o${below(rng, 1000)}`);
    const rename = new Map<string, string>();
    const fresh = (old: string) => {
      if (!rename.has(old)) rename.set(old, `${pick(rng, names)}${rename.size}`);
      return rename.get(old) as string;
    };
    const initializers = new Set(graph.initializer.map((t) => t.name));
    const renamed = (v: string) => (initializers.has(v) || v === '' ? v : fresh(v));
    graph.name = pick(rng, names);
    for (const n of graph.node) {
      n.name = pick(rng, names);
      n.input = n.input.map(renamed);
      n.output = n.output.map(renamed);
    }
    for (const v of [...graph.input, ...graph.output]) if (v.name !== undefined && !initializers.has(v.name)) v.name = renamed(v.name);
  } else if (kind === 4) {
    // An output listed twice, or a graph output that is a graph input.
    graph.output.push(below(rng, 2) === 0 ? graph.output[0] : { ...graph.output[0], name: graph.input[0]?.name ?? 'x' });
  } else {
    // An input dimension set to an edge.
    const dims = graph.input[0]?.type?.tensorType?.shape?.dim ?? [];
    if (dims.length === 0) return bytes;
    dims[below(rng, dims.length)] = { dimValue: edge() };
  }
  try {
    return encodeModel(model);
  } catch {
    return bytes;
  }
}
