;; Channel gathers and concats of the plan runtime (model_runtime.js), as wasm over the backend's
;; own memory: JS element loops on the heap run at 3-7 ns per float, which made these copies a
;; third of a pruned ResNet's or DenseNet's time. The runtime holds this module's bytes (made by
;; scripts/build_copy_runs.ts); the memory import is declared plain or shared, to match the
;; backend build that runs (plain or threaded).
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
        (br $run)))))
