// Generates src/codegen/runtime/narrow_conv.wat: direct convolutions for layers of few output
// channels. XNNPACK's wasm kernels compute output channels in tiles of 8, so a layer of 9 costs
// as much as one of 16, and pruned layers are mostly such. These compute 4 channels per SIMD
// vector: `conv_<nv>` computes `nv` vectors (up to 4 * nv channels) of every output pixel, tiles
// of several pixels at a time with each (pixel, vector) accumulator in a local of its own. A
// generator writes them because wasm has no arrays of registers: every accumulator is named.
//
// The input is NHWC and already padded (the runtime copies it into a zero-bordered buffer when
// the conv pads), so each kernel row's taps are kw * cin contiguous floats. The weights are read
// where they were uploaded, HWIO ([kh][kw][cin][cout]): a block of channels reads 4 * nv floats of
// each tap's row. Past the layer's last channel those are the next row's (or, for the last row,
// the next 1-3 floats of memory), and they only reach lanes that are never stored.

import { winogradFunctions } from './winograd_wat.ts';

/**
 * Pixels per tile for each block width in vectors (1, 2 and 4: conv_1, conv_2, conv_4), the
 * accumulators plus the weights fitting the x64 JIT's 16 vector registers. No 3-vector kernel:
 * 3 vectors x 3 pixels took 1.2-1.8x as long on layers of 9-12 channels as a 2-vector block (4 pixels)
 * and a 1-vector one (the runtime's convBlocks splits them so).
 */
export const TILE_PIXELS: Readonly<Record<number, number>> = { 1: 4, 2: 4, 4: 2 };

/**
 * Output rows must be at least this wide (the widest tile): a row's last tile moves back to end at
 * the row's end, recomputing a pixel or two rather than needing single-pixel kernels. The runtime
 * (model_runtime.js CONV_MIN_WIDTH) gives these kernels only outputs this wide.
 */
export const MIN_OUTPUT_WIDTH = Math.max(...Object.values(TILE_PIXELS));

const get = (name: string): string => `(local.get $${name})`;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * The code of one tile, `mr` pixels x `nv` vectors, inlined in conv_<nv>'s tile loop (a call per
 * tile cost a 1x1 conv on short sums up to a fifth of its time): the bias, then kh kernel rows of klen taps
 * from $tip (input) and $twp (weights), then clamp and store at $typ. The last vector stores only
 * its first `lanes` (1-4) lanes, so nothing past a pixel's channels is written.
 */
function tileCode(mr: number, nv: number): { readonly locals: string; readonly body: readonly string[] } {
  const acc = (p: number, v: number): string => `a${p}v${v}`;
  const locals = [
    ...range(mr).flatMap((p) => range(nv).map((v) => `(local $${acc(p, v)} v128)`)),
    ...range(nv).map((v) => `(local $w${v} v128)`),
    '(local $s v128) (local $tip i32) (local $twp i32) (local $typ i32) (local $i i32) (local $j i32) (local $k i32) (local $ky i32)',
  ].join(' ');
  const body: string[] = [];
  for (const v of range(nv)) {
    body.push(`(local.set $s (v128.load offset=${16 * v} ${get('bias')}))`);
    for (const p of range(mr)) body.push(`(local.set $${acc(p, v)} ${get('s')})`);
  }
  body.push(`(local.set $ky ${get('kh')})`, `(loop $rows`, `  (local.set $i ${get('tip')}) (local.set $k ${get('klen')})`, `  (loop $taps`);
  for (const v of range(nv)) body.push(`    (local.set $w${v} (v128.load offset=${16 * v} ${get('twp')}))`);
  body.push(`    (local.set $j ${get('i')})`);
  for (const p of range(mr)) {
    if (p > 0) body.push(`    (local.set $j (i32.add ${get('j')} ${get('pix')}))`);
    body.push(`    (local.set $s (v128.load32_splat ${get('j')}))`);
    // acc = s * w + acc, the product first: its bytes (mul, get acc, add) are what the runtime
    // rewrites into one relaxed_madd where the host has relaxed SIMD (model_runtime.js fmaBuild).
    for (const v of range(nv))
      body.push(`    (local.set $${acc(p, v)} (f32x4.add (f32x4.mul ${get('s')} ${get(`w${v}`)}) ${get(acc(p, v))}))`);
  }
  body.push(
    `    (local.set $i (i32.add ${get('i')} (i32.const 4)))`,
    `    (local.set $twp (i32.add ${get('twp')} ${get('wrow')}))`,
    `    (br_if $taps (local.tee $k (i32.sub ${get('k')} (i32.const 1)))))`,
    `  (local.set $tip (i32.add ${get('tip')} ${get('row')}))`,
    `  (br_if $rows (local.tee $ky (i32.sub ${get('ky')} (i32.const 1)))))`,
  );
  for (const p of range(mr)) {
    if (p > 0) body.push(`(local.set $typ (i32.add ${get('typ')} ${get('ypix')}))`);
    for (const v of range(nv)) {
      body.push(`(local.set $s (f32x4.min ${get('hi4')} (f32x4.max ${get('lo4')} ${get(acc(p, v))})))`);
      if (v < nv - 1) body.push(`(v128.store offset=${16 * v} align=4 ${get('typ')} ${get('s')})`);
      else
        body.push(
          `(if (i32.eq ${get('lanes')} (i32.const 4)) (then (v128.store offset=${16 * v} align=4 ${get('typ')} ${get('s')}))`,
          `  (else (call $store_lanes (i32.add ${get('typ')} (i32.const ${16 * v})) ${get('s')} ${get('lanes')})))`,
        );
    }
  }
  return { locals, body };
}

/**
 * conv_<nv>: every output pixel of `images` images, in tiles of TILE_PIXELS[nv] pixels along each
 * output row (rows at least MIN_OUTPUT_WIDTH wide). Strides in bytes: `image` and `row_step` (a
 * kernel row's start moves by `row` per kernel row and by `row_step` per output row) on the input,
 * `pix` per output pixel on the input, `wrow` per tap on the weights, `ypix` per output pixel on
 * the output. `w`, `bias` and `y` point at the block's first channel; `lanes` (1-4) is how many
 * channels its last vector has.
 */
function convFunction(nv: number): string {
  const mr = TILE_PIXELS[nv];
  if (mr === undefined) throw new Error(`no tile size for ${nv} vectors`);
  const tile = tileCode(mr, nv);
  return [
    `  (func (export "conv_${nv}")`,
    `    (param $x i32) (param $images i32) (param $image i32) (param $row i32) (param $row_step i32) (param $pix i32)`,
    `    (param $w i32) (param $wrow i32) (param $bias i32) (param $y i32) (param $ypix i32) (param $lanes i32)`,
    `    (param $kh i32) (param $klen i32) (param $ho i32) (param $wo i32) (param $lo f32) (param $hi f32)`,
    `    (local $n i32) (local $oy i32) (local $ox i32) (local $ip i32) (local $yrow i32) (local $lo4 v128) (local $hi4 v128)`,
    `    ${tile.locals}`,
    `    (local.set $lo4 (f32x4.splat ${get('lo')})) (local.set $hi4 (f32x4.splat ${get('hi')}))`,
    `    (local.set $yrow ${get('y')})`,
    `    (block $done`,
    `      (br_if $done (i32.or (i32.eqz ${get('images')}) (i32.or (i32.eqz ${get('ho')}) (i32.lt_u ${get('wo')} (i32.const ${mr})))))`,
    `      (loop $image_loop`,
    `        (local.set $ip (i32.add ${get('x')} (i32.mul ${get('n')} ${get('image')})))`,
    `        (local.set $oy (i32.const 0))`,
    `        (loop $row_loop`,
    `          (local.set $ox (i32.const 0))`,
    `          (loop $tile_loop`,
    // The last tile ends at the row's end, overlapping the one before if the row is no multiple.
    `            (if (i32.gt_u (i32.add ${get('ox')} (i32.const ${mr})) ${get('wo')}) (then (local.set $ox (i32.sub ${get('wo')} (i32.const ${mr})))))`,
    `            (local.set $tip (i32.add ${get('ip')} (i32.mul ${get('ox')} ${get('pix')})))`,
    `            (local.set $twp ${get('w')})`,
    `            (local.set $typ (i32.add ${get('yrow')} (i32.mul ${get('ox')} ${get('ypix')})))`,
    ...tile.body.map((line) => `            ${line}`),
    `            (br_if $tile_loop (i32.lt_u (local.tee $ox (i32.add ${get('ox')} (i32.const ${mr}))) ${get('wo')})))`,
    `          (local.set $yrow (i32.add ${get('yrow')} (i32.mul ${get('wo')} ${get('ypix')})))`,
    `          (local.set $ip (i32.add ${get('ip')} ${get('row_step')}))`,
    `          (br_if $row_loop (i32.lt_u (local.tee $oy (i32.add ${get('oy')} (i32.const 1))) ${get('ho')})))`,
    `        (br_if $image_loop (i32.lt_u (local.tee $n (i32.add ${get('n')} (i32.const 1))) ${get('images')})))))`,
  ].join('\n');
}

/**
 * pad: `images` NHWC images of h rows of `rowBytes` bytes into dst, each row `left` bytes in, after
 * `top` zero rows, in rows of `padded_row` bytes and images of `padded_rows` rows; every byte of
 * dst not copied into is zeroed (the borders).
 */
const PAD_FUNCTION = `  (func (export "pad")
    (param $src i32) (param $dst i32) (param $images i32) (param $h i32) (param $row_bytes i32)
    (param $top i32) (param $left i32) (param $padded_rows i32) (param $padded_row i32)
    (local $n i32) (local $r i32) (local $end i32)
    (block $done (loop $image_loop
      (br_if $done (i32.ge_u ${get('n')} ${get('images')}))
      (local.set $end (i32.add ${get('dst')} (i32.mul ${get('padded_rows')} ${get('padded_row')})))
      (memory.fill ${get('dst')} (i32.const 0) (i32.add (i32.mul ${get('top')} ${get('padded_row')}) ${get('left')}))
      (local.set $dst (i32.add ${get('dst')} (i32.add (i32.mul ${get('top')} ${get('padded_row')}) ${get('left')})))
      (local.set $r (i32.const 0))
      (block $rows_done (loop $row_loop
        (br_if $rows_done (i32.ge_u ${get('r')} ${get('h')}))
        (memory.copy ${get('dst')} ${get('src')} ${get('row_bytes')})
        ;; The right border of this row and the left border of the next, which touch.
        (memory.fill (i32.add ${get('dst')} ${get('row_bytes')}) (i32.const 0) (i32.sub ${get('padded_row')} ${get('row_bytes')}))
        (local.set $src (i32.add ${get('src')} ${get('row_bytes')}))
        (local.set $dst (i32.add ${get('dst')} ${get('padded_row')}))
        (local.set $r (i32.add ${get('r')} (i32.const 1)))
        (br $row_loop)))
      ;; The last row's fill above ran into the bottom border: zero the rest of the image.
      (local.set $dst (i32.sub ${get('dst')} ${get('left')}))
      (memory.fill ${get('dst')} (i32.const 0) (i32.sub ${get('end')} ${get('dst')}))
      (local.set $dst ${get('end')})
      (local.set $n (i32.add ${get('n')} (i32.const 1)))
      (br $image_loop))))`;

/** The first `lanes` (1-3) lanes of a pixel's last vector, one by one. */
const STORE_LANES_FUNCTION = `  (func $store_lanes (param $at i32) (param $v v128) (param $lanes i32)
    (v128.store32_lane align=4 0 ${get('at')} ${get('v')})
    (if (i32.ge_u ${get('lanes')} (i32.const 2)) (then (v128.store32_lane offset=4 align=4 1 ${get('at')} ${get('v')})))
    (if (i32.eq ${get('lanes')} (i32.const 3)) (then (v128.store32_lane offset=8 align=4 2 ${get('at')} ${get('v')}))))`;

/** The whole module's text. */
export function narrowConvWat(): string {
  const vectors = Object.keys(TILE_PIXELS).map(Number);
  return [
    ';; Generated by scripts/narrow_conv_wat.ts: do not edit (see there for what these compute).',
    '(module',
    '  (import "env" "memory" MEMORY)',
    STORE_LANES_FUNCTION,
    ...vectors.map(convFunction),
    PAD_FUNCTION,
    ...winogradFunctions(),
    ')',
    '',
  ].join('\n');
}
