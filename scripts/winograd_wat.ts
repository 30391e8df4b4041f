// Generates the Winograd F(2x2, 3x3) transforms that narrow_conv.wat carries (narrow_conv_wat.ts
// puts them in): a 3x3 stride-1 conv as 16 matrix products over transformed 4x4 input tiles,
// 2.25x fewer multiply-adds than the direct conv (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). The runtime does the products with the backend's
// `_FusedMatMul` (XNNPACK's GEMM, one per tile element e) and transforms the filters in JS once:
//   V[e][tile][c]  = (B^T d B)[e]       the input transform of each 4x4 input tile d (wino_in)
//   M[e]           = V[e] x U[e]        U[e] = (G g G^T)[e], [cin4 x cout] (the runtime)
//   Y (2x2 pixels) = A^T m A + bias     the output transform, clamped (wino_out)
// with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1]. Tiles are 2x2
// output pixels, read from a zero-bordered copy of the input (the runtime pads it to whole
// tiles); 4 channels per SIMD vector. V's rows hold cin4 = 4 * ceil(cin / 4) channels: the last
// vector's lanes past cin are zeroed (they read the next pixel's channels) and meet zero rows of
// U. M's rows hold cout channels; the last vector of a row reads into the next row and stores
// only its real lanes.

const get = (name: string): string => `(local.get $${name})`;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const add = (a: string, b: string): string => `(f32x4.add ${a} ${b})`;
const sub = (a: string, b: string): string => `(f32x4.sub ${a} ${b})`;

/** B^T x (or x B, by rows/columns): the four results from four inputs. */
const bTranspose = (x: readonly string[]): string[] => [sub(x[0], x[2]), add(x[1], x[2]), sub(x[2], x[1]), sub(x[1], x[3])];
/** A^T x: the two results from four inputs. */
const aTranspose = (x: readonly string[]): string[] => [add(add(x[0], x[1]), x[2]), sub(sub(x[1], x[2]), x[3])];

/** wino_in: every 4x4 tile (stride 2) of the padded NHWC input, transformed, into V. */
function inputTransform(): string {
  const d = (i: number, j: number): string => `d${4 * i + j}`;
  const t = (i: number, j: number): string => `t${4 * i + j}`;
  const locals = [
    ...range(16).map((k) => `(local $d${k} v128) (local $t${k} v128)`),
    range(16)
      .map((k) => `(local $o${k} i32) (local $q${k} i32)`)
      .join(' '),
    '(local $n i32) (local $ty i32) (local $tx i32) (local $v i32) (local $image_at i32) (local $row_at i32) (local $at i32) (local $out i32)',
  ];
  // The byte offset of each of the tile's 16 pixels from its first.
  const offsets = range(16).map(
    (k) => `(local.set $o${k} (i32.add (i32.mul (i32.const ${k >> 2}) ${get('row')}) (i32.mul (i32.const ${k & 3}) ${get('pix')})))`,
  );
  const body: string[] = [];
  // Loads of the 16 vectors of channels [c, c + 4) at the tile's pixels, the last vector masked.
  for (const k of range(16))
    body.push(`(local.set $d${k} (v128.and ${get('keep')} (v128.load align=4 (i32.add ${get('at')} ${get(`o${k}`)}))))`);
  // Rows: t = B^T d, column by column.
  for (const j of range(4)) {
    const column = bTranspose(range(4).map((i) => get(d(i, j))));
    for (const i of range(4)) body.push(`(local.set $${t(i, j)} ${column[i]})`);
  }
  // Columns: V = t B, row by row; V[4i + j] goes to matrix e = 4i + j (offset q_e = e * estride).
  for (const i of range(4)) {
    const row = bTranspose(range(4).map((j) => get(t(i, j))));
    for (const j of range(4)) body.push(`(v128.store align=4 (i32.add ${get('out')} ${get(`q${4 * i + j}`)}) ${row[j]})`);
  }
  return `  (func (export "wino_in")
    (param $src i32) (param $pix i32) (param $row i32) (param $image i32) (param $images i32)
    (param $th i32) (param $tw i32) (param $vectors i32) (param $lanes i32)
    (param $dst i32) (param $estride i32)
    (local $keep v128) (local $mask v128)
    ${locals.join('\n    ')}
    ${offsets.join('\n    ')}
    ${range(16)
      .map((e) => `(local.set $q${e} (i32.mul (i32.const ${e}) ${get('estride')}))`)
      .join('\n    ')}
    ;; The last vector's lane mask: its first $lanes lanes.
    (local.set $mask (i32x4.gt_s (i32x4.splat ${get('lanes')}) (v128.const i32x4 0 1 2 3)))
    (local.set $image_at ${get('src')})
    (local.set $out ${get('dst')})
    (loop $images_loop
      (local.set $row_at ${get('image_at')})
      (local.set $ty (i32.const 0))
      (loop $rows_loop
        (local.set $tx (i32.const 0))
        (loop $tiles_loop
          (local.set $at (i32.add ${get('row_at')} (i32.mul (i32.shl ${get('tx')} (i32.const 1)) ${get('pix')})))
          (local.set $v (i32.const 0))
          (loop $vectors_loop
            (local.set $keep (select ${get('mask')} (v128.const i32x4 -1 -1 -1 -1) (i32.eq ${get('v')} (i32.sub ${get('vectors')} (i32.const 1)))))
            ${body.join('\n            ')}
            (local.set $at (i32.add ${get('at')} (i32.const 16)))
            (local.set $out (i32.add ${get('out')} (i32.const 16)))
            (br_if $vectors_loop (i32.lt_u (local.tee $v (i32.add ${get('v')} (i32.const 1))) ${get('vectors')})))
          (br_if $tiles_loop (i32.lt_u (local.tee $tx (i32.add ${get('tx')} (i32.const 1))) ${get('tw')})))
        (local.set $row_at (i32.add ${get('row_at')} (i32.shl ${get('row')} (i32.const 1))))
        (br_if $rows_loop (i32.lt_u (local.tee $ty (i32.add ${get('ty')} (i32.const 1))) ${get('th')})))
      (local.set $image_at (i32.add ${get('image_at')} ${get('image')}))
      (br_if $images_loop (i32.lt_u (local.tee $n (i32.add ${get('n')} (i32.const 1))) ${get('images')}))))`;
}

/** wino_out: every tile's 16 products, transformed to 2x2 output pixels, biased, clamped, stored. */
function outputTransform(): string {
  const m = (i: number, j: number): string => `m${4 * i + j}`;
  const s = (i: number, j: number): string => `s${4 * i + j}`;
  const body: string[] = [];
  for (const i of range(4))
    for (const j of range(4)) body.push(`(local.set $${m(i, j)} (v128.load align=4 (i32.add ${get('at')} ${get(`q${4 * i + j}`)})))`);
  // s = A^T m (2 x 4), column by column; then y = s A (2 x 2), row by row.
  for (const j of range(4)) {
    const column = aTranspose(range(4).map((i) => get(m(i, j))));
    for (const i of range(2)) body.push(`(local.set $${s(i, j)} ${column[i]})`);
  }
  for (const i of range(2)) {
    const row = aTranspose(range(4).map((j) => get(s(i, j))));
    for (const j of range(2)) {
      const y = `(f32x4.pmin (f32x4.pmax ${add(row[j], get('b'))} ${get('vlo')}) ${get('vhi')})`;
      // Pixel (2ty + i, 2tx + j), if the output has it (odd heights and widths end in half tiles).
      const inside = [
        i > 0 ? `(i32.lt_u (i32.add (i32.shl ${get('ty')} (i32.const 1)) (i32.const 1)) ${get('ho')})` : '',
        j > 0 ? `(i32.lt_u (i32.add (i32.shl ${get('tx')} (i32.const 1)) (i32.const 1)) ${get('wo')})` : '',
      ].filter((c) => c !== '');
      const at = `(i32.add ${get('yat')} ${get(`p${2 * i + j}`)})`;
      const store = `(if ${get('full')} (then (v128.store align=4 ${at} ${get('y')})) (else (call $store_lanes ${at} ${get('y')} ${get('lanes')})))`;
      const code = `(local.set $y ${y}) ${store}`;
      body.push(
        inside.length === 0 ? code : `(if ${inside.length === 2 ? `(i32.and ${inside[0]} ${inside[1]})` : inside[0]} (then ${code}))`,
      );
    }
  }
  const locals = [
    ...range(16).map((k) => `(local $m${k} v128)`),
    ...range(8).map((k) => `(local $s${k} v128)`),
    '(local $y v128) (local $b v128) (local $vlo v128) (local $vhi v128)',
    range(16)
      .map((k) => `(local $q${k} i32)`)
      .join(' '),
    range(4)
      .map((k) => `(local $p${k} i32)`)
      .join(' '),
    '(local $n i32) (local $ty i32) (local $tx i32) (local $v i32) (local $at i32) (local $tile_at i32) (local $yat i32) (local $yimage_at i32) (local $yrow_at i32) (local $full i32)',
  ];
  return `  (func (export "wino_out")
    (param $src i32) (param $estride i32) (param $tile i32) (param $bias i32)
    (param $y0 i32) (param $ypix i32) (param $yrow i32) (param $yimage i32) (param $images i32)
    (param $th i32) (param $tw i32) (param $ho i32) (param $wo i32) (param $vectors i32) (param $lanes i32)
    (param $lo f32) (param $hi f32)
    ${locals.join('\n    ')}
    (local.set $vlo (f32x4.splat ${get('lo')}))
    (local.set $vhi (f32x4.splat ${get('hi')}))
    ${range(16)
      .map((e) => `(local.set $q${e} (i32.mul (i32.const ${e}) ${get('estride')}))`)
      .join('\n    ')}
    ${range(4)
      .map(
        (k) => `(local.set $p${k} (i32.add (i32.mul (i32.const ${k >> 1}) ${get('yrow')}) (i32.mul (i32.const ${k & 1}) ${get('ypix')})))`,
      )
      .join('\n    ')}
    (local.set $tile_at ${get('src')})
    (local.set $yimage_at ${get('y0')})
    (loop $images_loop
      (local.set $yrow_at ${get('yimage_at')})
      (local.set $ty (i32.const 0))
      (loop $rows_loop
        (local.set $tx (i32.const 0))
        (loop $tiles_loop
          (local.set $v (i32.const 0))
          (local.set $at ${get('tile_at')})
          (local.set $yat (i32.add ${get('yrow_at')} (i32.mul (i32.shl ${get('tx')} (i32.const 1)) ${get('ypix')})))
          (loop $vectors_loop
            (local.set $full (i32.or (i32.eq ${get('lanes')} (i32.const 4)) (i32.lt_u (i32.add ${get('v')} (i32.const 1)) ${get('vectors')})))
            (local.set $b (v128.load align=4 (i32.add ${get('bias')} (i32.shl ${get('v')} (i32.const 4)))))
            ${body.join('\n            ')}
            (local.set $at (i32.add ${get('at')} (i32.const 16)))
            (local.set $yat (i32.add ${get('yat')} (i32.const 16)))
            (br_if $vectors_loop (i32.lt_u (local.tee $v (i32.add ${get('v')} (i32.const 1))) ${get('vectors')})))
          (local.set $tile_at (i32.add ${get('tile_at')} ${get('tile')}))
          (br_if $tiles_loop (i32.lt_u (local.tee $tx (i32.add ${get('tx')} (i32.const 1))) ${get('tw')})))
        (local.set $yrow_at (i32.add ${get('yrow_at')} (i32.shl ${get('yrow')} (i32.const 1))))
        (br_if $rows_loop (i32.lt_u (local.tee $ty (i32.add ${get('ty')} (i32.const 1))) ${get('th')})))
      (local.set $yimage_at (i32.add ${get('yimage_at')} ${get('yimage')}))
      (br_if $images_loop (i32.lt_u (local.tee $n (i32.add ${get('n')} (i32.const 1))) ${get('images')}))))`;
}

/** Both transforms' functions (they call narrow_conv.wat's $store_lanes). */
export function winogradFunctions(): string[] {
  return [inputTransform(), outputTransform()];
}
