;; slimc's own training kernels over the backend's memory (wasm_kernels.ts makes the instance;
;; pointers are byte offsets). The memory import is declared plain or shared, to match the
;; backend build that runs.
;;
;; Training-mode batch norm (batch_norm_kernels.ts calls these): x is `rows` rows of `channels`
;; floats (NHWC: a row is a pixel); per-channel vectors are indexed by channel. Per-channel sums
;; accumulate in float64. Each row runs 4 channels at a time with SIMD, then the last
;; channels % 4 one at a time.
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
  ;; If mp is not 0, dy counts only where the forward output (x - m32[c]) * mp[c] + mq[c] (float32,
  ;; as bn_affine computes it) is above 0: the gradient through a relu after the norm.
  (func (export "bn_grad_sums")
    (param $dy i32) (param $x i32) (param $rows i32) (param $channels i32) (param $mean i32) (param $dbeta i32) (param $dxm i32)
    (param $m32 i32) (param $mp i32) (param $mq i32)
    (local $c i32) (local $m i32) (local $b i32) (local $g i32) (local $k i32) (local $masked i32)
    (local $d v128) (local $v v128) (local $dlo v128) (local $dhi v128) (local $s f64)
    (local.set $masked (i32.ne (local.get $mp) (i32.const 0)))
    (block $rows_done (loop $row
      (br_if $rows_done (i32.eqz (local.get $rows)))
      (local.set $c (i32.const 0))
      (local.set $k (i32.const 0))
      (local.set $m (local.get $mean))
      (local.set $b (local.get $dbeta))
      (local.set $g (local.get $dxm))
      (block $vec_done (loop $vec
        (br_if $vec_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
        (local.set $d (v128.load align=4 (local.get $dy)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (if (local.get $masked) (then
          (local.set $d (v128.and (local.get $d) (f32x4.gt
            (f32x4.add
              (f32x4.mul (f32x4.sub (local.get $v) (v128.load align=4 (i32.add (local.get $m32) (local.get $k))))
                         (v128.load align=4 (i32.add (local.get $mp) (local.get $k))))
              (v128.load align=4 (i32.add (local.get $mq) (local.get $k))))
            (v128.const f32x4 0 0 0 0))))))
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
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $g (i32.add (local.get $g) (i32.const 32)))
        (br $vec)))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $s (f64.promote_f32 (f32.load (local.get $dy))))
        (if (local.get $masked) (then
          (if (i32.eqz (f32.gt
                (f32.add
                  (f32.mul (f32.sub (f32.load (local.get $x)) (f32.load (i32.add (local.get $m32) (local.get $k))))
                           (f32.load (i32.add (local.get $mp) (local.get $k))))
                  (f32.load (i32.add (local.get $mq) (local.get $k))))
                (f32.const 0)))
            (then (local.set $s (f64.const 0))))))
        (f64.store (local.get $b) (f64.add (f64.load (local.get $b)) (local.get $s)))
        (f64.store (local.get $g) (f64.add (f64.load (local.get $g))
          (f64.mul (local.get $s) (f64.sub (f64.promote_f32 (f32.load (local.get $x))) (f64.load (local.get $m))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (br $tail)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $row))))

  ;; out[r, c] = (x[r, c] - m[c]) * p[c] + q[c], plus dy[r, c] * s[c] if dy is not 0; float32.
  ;; The forward pass (p = gamma * rstd, q = beta) and the input gradient (see the caller). If mp
  ;; is not 0, dy counts only where (x - m[c]) * mp[c] + mq[c] > 0 (the forward output, before a
  ;; relu); if clamp, out is max(out, 0) (a relu after the norm).
  (func (export "bn_affine")
    (param $x i32) (param $dy i32) (param $rows i32) (param $channels i32)
    (param $m i32) (param $p i32) (param $q i32) (param $s i32) (param $out i32)
    (param $mp i32) (param $mq i32) (param $clamp i32)
    (local $c i32) (local $k i32) (local $v v128) (local $d v128) (local $f f32) (local $e f32) (local $with_dy i32) (local $masked i32)
    (local.set $with_dy (i32.ne (local.get $dy) (i32.const 0)))
    (local.set $masked (i32.ne (local.get $mp) (i32.const 0)))
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
          (local.set $d (v128.load align=4 (local.get $dy)))
          (if (local.get $masked) (then
            (local.set $d (v128.and (local.get $d) (f32x4.gt
              (f32x4.add
                (f32x4.mul (f32x4.sub (v128.load align=4 (local.get $x)) (v128.load align=4 (i32.add (local.get $m) (local.get $k))))
                           (v128.load align=4 (i32.add (local.get $mp) (local.get $k))))
                (v128.load align=4 (i32.add (local.get $mq) (local.get $k))))
              (v128.const f32x4 0 0 0 0))))))
          (local.set $v (f32x4.add (local.get $v)
            (f32x4.mul (local.get $d) (v128.load align=4 (i32.add (local.get $s) (local.get $k))))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))))
        (if (local.get $clamp) (then (local.set $v (f32x4.pmax (local.get $v) (v128.const f32x4 0 0 0 0)))))
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
          (local.set $e (f32.load (local.get $dy)))
          (if (local.get $masked) (then
            (if (i32.eqz (f32.gt
                  (f32.add
                    (f32.mul (f32.sub (f32.load (local.get $x)) (f32.load (i32.add (local.get $m) (local.get $k))))
                             (f32.load (i32.add (local.get $mp) (local.get $k))))
                    (f32.load (i32.add (local.get $mq) (local.get $k))))
                  (f32.const 0)))
              (then (local.set $e (f32.const 0))))))
          (local.set $f (f32.add (local.get $f) (f32.mul (local.get $e) (f32.load (i32.add (local.get $s) (local.get $k))))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 4)))))
        (if (local.get $clamp) (then
          (if (f32.lt (local.get $f) (f32.const 0)) (then (local.set $f (f32.const 0))))))
        (f32.store (local.get $out) (local.get $f))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $row))))

  ;; The gradient of a max pool (js_kernels.ts maxPoolGrad calls it): for each output position
  ;; and channel of dy [n, oh, ow, c], the first largest input of its window in row-major order
  ;; (padded positions never win) gets dy added to its dx. x and dx are [n, h, w, c]; dx starts zeroed.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $sh i32) (param $sw i32) (param $fh i32) (param $fw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ch i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $y0 i32) (local $x0 i32) (local $row i32) (local $k i32) (local $at i32)
    (local $best f32) (local $v f32)
    (local.set $b (i32.const 0))
    (block $images_done (loop $image
      (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (block $rows_done (loop $out_row
        (br_if $rows_done (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)))
        (local.set $ox (i32.const 0))
        (block $cols_done (loop $out_col
          (br_if $cols_done (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $left)))
          (local.set $ch (i32.const 0))
          (block $channels_done (loop $channel
            (br_if $channels_done (i32.ge_u (local.get $ch) (local.get $c)))
            (local.set $best (f32.const -inf))
            (local.set $at (i32.const -1))
            (local.set $ky (i32.const 0))
            (block $taps_done (loop $tap_row
              (br_if $taps_done (i32.ge_u (local.get $ky) (local.get $fh)))
              (local.set $iy (i32.add (local.get $y0) (local.get $ky)))
              (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $h))) (then
                (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w)))
                (local.set $kx (i32.const 0))
                (block $tap_cols_done (loop $tap_col
                  (br_if $tap_cols_done (i32.ge_u (local.get $kx) (local.get $fw)))
                  (local.set $ix (i32.add (local.get $x0) (local.get $kx)))
                  (if (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.lt_s (local.get $ix) (local.get $w))) (then
                    (local.set $k (i32.add (i32.mul (i32.add (local.get $row) (local.get $ix)) (local.get $c)) (local.get $ch)))
                    (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
                    (if (f32.gt (local.get $v) (local.get $best)) (then
                      (local.set $best (local.get $v))
                      (local.set $at (local.get $k))))))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br $tap_col)))))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br $tap_row)))
            (if (i32.ge_s (local.get $at) (i32.const 0)) (then
              (local.set $k (i32.add (local.get $dx) (i32.shl (local.get $at) (i32.const 2))))
              (f32.store (local.get $k) (f32.add (f32.load (local.get $k)) (f32.load (local.get $dy))))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $channel)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $out_col)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $out_row)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $image))))
)
