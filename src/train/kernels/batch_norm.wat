;; Training-mode batch norm over the backend's memory (kernels/batch_norm_kernels.ts calls these):
;; x is `rows` rows of `channels` floats (NHWC: a row is a pixel); per-channel vectors are indexed
;; by channel. Per-channel sums accumulate in float64. Each row runs 4 channels at a time with
;; SIMD, then the last channels % 4 one at a time. The memory import is declared plain or shared,
;; to match the backend build that runs.
(module
  (import "env" "memory" MEMORY)

  ;; acc[c] += x[r, c], or (x[r, c] - mean[c])^2 if centered; acc and mean float64.
  (func (export "bn_sums")
    (param $x i32) (param $rows i32) (param $channels i32) (param $mean i32) (param $acc i32) (param $centered i32)
    (local $c i32) (local $p i32) (local $a i32) (local $m i32) (local $v v128) (local $lo v128) (local $hi v128) (local $s f64)
    (block $rows_done (loop $row
      (br_if $rows_done (i32.eqz (local.get $rows)))
      (local.set $c (i32.const 0))
      (local.set $p (local.get $x))
      (local.set $a (local.get $acc))
      (local.set $m (local.get $mean))
      (block $vec_done (loop $vec
        (br_if $vec_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
        (local.set $v (v128.load align=4 (local.get $p)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (if (local.get $centered) (then
          (local.set $lo (f64x2.sub (local.get $lo) (v128.load align=8 (local.get $m))))
          (local.set $hi (f64x2.sub (local.get $hi) (v128.load offset=16 align=8 (local.get $m))))
          (local.set $lo (f64x2.mul (local.get $lo) (local.get $lo)))
          (local.set $hi (f64x2.mul (local.get $hi) (local.get $hi)))))
        (v128.store align=8 (local.get $a) (f64x2.add (v128.load align=8 (local.get $a)) (local.get $lo)))
        (v128.store offset=16 align=8 (local.get $a) (f64x2.add (v128.load offset=16 align=8 (local.get $a)) (local.get $hi)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $m (i32.add (local.get $m) (i32.const 32)))
        (br $vec)))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $s (f64.promote_f32 (f32.load (local.get $p))))
        (if (local.get $centered) (then
          (local.set $s (f64.sub (local.get $s) (f64.load (local.get $m))))
          (local.set $s (f64.mul (local.get $s) (local.get $s)))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $s)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (br $tail)))
      (local.set $x (local.get $p))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $row))))

  ;; dbeta[c] += dy[r, c]; dxm[c] += dy[r, c] * (x[r, c] - mean[c]); all three vectors float64.
  (func (export "bn_grad_sums")
    (param $dy i32) (param $x i32) (param $rows i32) (param $channels i32) (param $mean i32) (param $dbeta i32) (param $dxm i32)
    (local $c i32) (local $m i32) (local $b i32) (local $g i32)
    (local $d v128) (local $v v128) (local $dlo v128) (local $dhi v128) (local $s f64)
    (block $rows_done (loop $row
      (br_if $rows_done (i32.eqz (local.get $rows)))
      (local.set $c (i32.const 0))
      (local.set $m (local.get $mean))
      (local.set $b (local.get $dbeta))
      (local.set $g (local.get $dxm))
      (block $vec_done (loop $vec
        (br_if $vec_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
        (local.set $d (v128.load align=4 (local.get $dy)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (local.set $dlo (f64x2.promote_low_f32x4 (local.get $d)))
        (local.set $dhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (v128.store align=8 (local.get $b) (f64x2.add (v128.load align=8 (local.get $b)) (local.get $dlo)))
        (v128.store offset=16 align=8 (local.get $b) (f64x2.add (v128.load offset=16 align=8 (local.get $b)) (local.get $dhi)))
        (v128.store align=8 (local.get $g) (f64x2.add (v128.load align=8 (local.get $g))
          (f64x2.mul (local.get $dlo) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (v128.load align=8 (local.get $m))))))
        (v128.store offset=16 align=8 (local.get $g) (f64x2.add (v128.load offset=16 align=8 (local.get $g))
          (f64x2.mul (local.get $dhi) (f64x2.sub
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
            (v128.load offset=16 align=8 (local.get $m))))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $g (i32.add (local.get $g) (i32.const 32)))
        (br $vec)))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $s (f64.promote_f32 (f32.load (local.get $dy))))
        (f64.store (local.get $b) (f64.add (f64.load (local.get $b)) (local.get $s)))
        (f64.store (local.get $g) (f64.add (f64.load (local.get $g))
          (f64.mul (local.get $s) (f64.sub (f64.promote_f32 (f32.load (local.get $x))) (f64.load (local.get $m))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (br $tail)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $row))))

  ;; out[r, c] = (x[r, c] - m[c]) * p[c] + q[c], plus dy[r, c] * s[c] if dy is not 0; float32.
  ;; The forward pass (p = gamma * rstd, q = beta) and the input gradient (see the caller).
  (func (export "bn_affine")
    (param $x i32) (param $dy i32) (param $rows i32) (param $channels i32)
    (param $m i32) (param $p i32) (param $q i32) (param $s i32) (param $out i32)
    (local $c i32) (local $k i32) (local $v v128) (local $f f32) (local $with_dy i32)
    (local.set $with_dy (i32.ne (local.get $dy) (i32.const 0)))
    (block $rows_done (loop $row
      (br_if $rows_done (i32.eqz (local.get $rows)))
      (local.set $c (i32.const 0))
      (local.set $k (i32.const 0))
      (block $vec_done (loop $vec
        (br_if $vec_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
        (local.set $v (f32x4.add
          (f32x4.mul (f32x4.sub (v128.load align=4 (local.get $x)) (v128.load align=4 (i32.add (local.get $m) (local.get $k))))
                     (v128.load align=4 (i32.add (local.get $p) (local.get $k))))
          (v128.load align=4 (i32.add (local.get $q) (local.get $k)))))
        (if (local.get $with_dy) (then
          (local.set $v (f32x4.add (local.get $v)
            (f32x4.mul (v128.load align=4 (local.get $dy)) (v128.load align=4 (i32.add (local.get $s) (local.get $k))))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))))
        (v128.store align=4 (local.get $out) (local.get $v))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $vec)))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $f (f32.add
          (f32.mul (f32.sub (f32.load (local.get $x)) (f32.load (i32.add (local.get $m) (local.get $k))))
                   (f32.load (i32.add (local.get $p) (local.get $k))))
          (f32.load (i32.add (local.get $q) (local.get $k)))))
        (if (local.get $with_dy) (then
          (local.set $f (f32.add (local.get $f)
            (f32.mul (f32.load (local.get $dy)) (f32.load (i32.add (local.get $s) (local.get $k))))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 4)))))
        (f32.store (local.get $out) (local.get $f))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $row)))))
