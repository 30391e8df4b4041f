;; Channel gathers and concats of the plan runtime (model_runtime.js), as wasm over the backend's
;; own memory: JS element loops on the heap run at 3-7 ns per float, which made these copies a
;; third of a pruned ResNet's or DenseNet's time. copy_runs copies runs of channels (concats, and
;; gathers of long runs); gather_vectors gathers 4 output channels at a time with SIMD loads
;; (plain, or lane by lane) and can apply the per-channel scale, shift and clamp of the batch norm
;; that follows a channel selection, so that the selection and the norm are one pass. The runtime
;; holds this module's bytes (made by scripts/build_runtime_kernels.ts); the memory import is
;; declared plain or shared, to match the backend build that runs (plain or threaded).
(module
  (import "env" "memory" MEMORY)
  ;; For every run of a table of (source offset, destination offset, byte length) triples, i32
  ;; each, from runs to runs_end, and each of `pixels` pixels p: copies the run's bytes from
  ;; src + p * src_stride + offset to dst + p * dst_stride + offset. Run by run, so that each
  ;; run's pixel loop is one tight loop for its length: one float, two, 128 bytes or more
  ;; (memory.copy), or 8 bytes at a time (the plan's lengths are all multiples of 4).
  (func (export "copy_runs")
    (param $src i32) (param $src_stride i32) (param $dst i32) (param $dst_stride i32)
    (param $pixels i32) (param $runs i32) (param $runs_end i32)
    (local $from i32) (local $to i32) (local $len i32) (local $p i32) (local $at i32)
    (block $runs_done
      (loop $run
        (br_if $runs_done (i32.ge_u (local.get $runs) (local.get $runs_end)))
        (local.set $from (i32.add (local.get $src) (i32.load align=4 (local.get $runs))))
        (local.set $to (i32.add (local.get $dst) (i32.load offset=4 align=4 (local.get $runs))))
        (local.set $len (i32.load offset=8 align=4 (local.get $runs)))
        (local.set $p (local.get $pixels))
        (if (i32.eq (local.get $len) (i32.const 4))
          (then
            (block $done (loop $pixel
              (br_if $done (i32.eqz (local.get $p)))
              (i32.store align=4 (local.get $to) (i32.load align=4 (local.get $from)))
              (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
              (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
              (local.set $p (i32.sub (local.get $p) (i32.const 1)))
              (br $pixel))))
          (else (if (i32.eq (local.get $len) (i32.const 8))
            (then
              (block $done (loop $pixel
                (br_if $done (i32.eqz (local.get $p)))
                (i64.store align=4 (local.get $to) (i64.load align=4 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
                (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
                (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                (br $pixel))))
            (else (if (i32.ge_u (local.get $len) (i32.const 128))
              (then
                (block $done (loop $pixel
                  (br_if $done (i32.eqz (local.get $p)))
                  (memory.copy (local.get $to) (local.get $from) (local.get $len))
                  (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
                  (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
                  (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                  (br $pixel))))
              (else
                (block $done (loop $pixel
                  (br_if $done (i32.eqz (local.get $p)))
                  ;; 8 bytes at a time, then the last 4 if the length is odd in floats.
                  (local.set $at (i32.const 0))
                  (block $words_done (loop $word
                    (br_if $words_done (i32.gt_u (i32.add (local.get $at) (i32.const 8)) (local.get $len)))
                    (i64.store align=4 (i32.add (local.get $to) (local.get $at))
                      (i64.load align=4 (i32.add (local.get $from) (local.get $at))))
                    (local.set $at (i32.add (local.get $at) (i32.const 8)))
                    (br $word)))
                  (if (i32.lt_u (local.get $at) (local.get $len))
                    (then (i32.store align=4 (i32.add (local.get $to) (local.get $at))
                      (i32.load align=4 (i32.add (local.get $from) (local.get $at))))))
                  (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
                  (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
                  (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                  (br $pixel)))))))))
        (local.set $runs (i32.add (local.get $runs) (i32.const 12)))
        (br $run))))
  ;; For every record of a table from rec to rec_end (32 bytes each), and each of `pixels`
  ;; pixels p: one output vector of 1-4 channels at dst + p * dst_stride + dst_off, loaded from the
  ;; source pixel src + p * src_stride either plain (4 consecutive channels at off_0, one load: a
  ;; pruned layer keeps long runs) or lane by lane (lane i one float at off_i: four one-float loads
  ;; cost less than a window's load, byte shuffle and or for each window the channels touch).
  ;; Record: dst_off, lanes, plain, off_0..off_3 (i32 each), one unused i32.
  ;; If scale is not 0, each vector becomes min(max(v * scale[c] + shift[c], lo), hi) with the
  ;; scale and shift vectors read at scale + dst_off and shift + dst_off (padded to whole vectors).
  ;; Only the record's lanes are stored: the floats after a pixel's last channel are not touched.
  (func (export "gather_vectors")
    (param $src i32) (param $src_stride i32) (param $dst i32) (param $dst_stride i32)
    (param $pixels i32) (param $rec i32) (param $rec_end i32)
    (param $scale i32) (param $shift i32) (param $lo f32) (param $hi f32)
    (local $from i32) (local $to i32) (local $lanes i32) (local $p i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $s v128) (local $b v128) (local $vlo v128) (local $vhi v128) (local $acc v128)
    (local $affine i32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $affine (i32.ne (local.get $scale) (i32.const 0)))
    (block $recs_done
      (loop $record
        (br_if $recs_done (i32.ge_u (local.get $rec) (local.get $rec_end)))
        (local.set $to (i32.add (local.get $dst) (i32.load (local.get $rec))))
        (local.set $lanes (i32.load offset=4 (local.get $rec)))
        (local.set $o0 (i32.load offset=12 (local.get $rec)))
        (local.set $o1 (i32.load offset=16 (local.get $rec)))
        (local.set $o2 (i32.load offset=20 (local.get $rec)))
        (local.set $o3 (i32.load offset=24 (local.get $rec)))
        (if (local.get $affine) (then
          (local.set $s (v128.load (i32.add (local.get $scale) (i32.load (local.get $rec)))))
          (local.set $b (v128.load (i32.add (local.get $shift) (i32.load (local.get $rec)))))))
        (local.set $from (local.get $src))
        (local.set $p (local.get $pixels))
        (if (i32.load offset=8 (local.get $rec)) (then
          (block $done (loop $pixel
            (br_if $done (i32.eqz (local.get $p)))
            (local.set $acc (v128.load align=4 (i32.add (local.get $from) (local.get $o0))))
            (if (local.get $affine) (then
              (local.set $acc (f32x4.pmin (f32x4.pmax
                (f32x4.add (f32x4.mul (local.get $acc) (local.get $s)) (local.get $b)) (local.get $vlo)) (local.get $vhi)))))
            (v128.store align=4 (local.get $to) (local.get $acc))
            (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
            (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $pixel)))
          (local.set $p (i32.const 0))))
        (block $done (loop $pixel
          (br_if $done (i32.eqz (local.get $p)))
          (local.set $acc (v128.load32_zero align=4 (i32.add (local.get $from) (local.get $o0))))
          (local.set $acc (v128.load32_lane align=4 1 (i32.add (local.get $from) (local.get $o1)) (local.get $acc)))
          (local.set $acc (v128.load32_lane align=4 2 (i32.add (local.get $from) (local.get $o2)) (local.get $acc)))
          (local.set $acc (v128.load32_lane align=4 3 (i32.add (local.get $from) (local.get $o3)) (local.get $acc)))
          (if (local.get $affine) (then
            (local.set $acc (f32x4.pmin (f32x4.pmax
              (f32x4.add (f32x4.mul (local.get $acc) (local.get $s)) (local.get $b)) (local.get $vlo)) (local.get $vhi)))))
          (if (i32.eq (local.get $lanes) (i32.const 4))
            (then (v128.store align=4 (local.get $to) (local.get $acc)))
            (else
              (if (i32.ge_u (local.get $lanes) (i32.const 2))
                (then
                  (v128.store64_lane align=4 0 (local.get $to) (local.get $acc))
                  (if (i32.eq (local.get $lanes) (i32.const 3))
                    (then (v128.store32_lane offset=8 2 (local.get $to) (local.get $acc)))))
                (else (v128.store32_lane 0 (local.get $to) (local.get $acc))))))
          (local.set $from (i32.add (local.get $from) (local.get $src_stride)))
          (local.set $to (i32.add (local.get $to) (local.get $dst_stride)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $pixel)))
        (local.set $rec (i32.add (local.get $rec) (i32.const 32)))
        (br $record)))))
