;; The read-bandwidth probe of `npm run bench`: sums n bytes of float32 from address 0 with 16-byte
;; SIMD loads, 64 bytes an iteration into four independent sums, so the loop waits on memory, not on
;; its adds (the engine's kernels read their weights with the same loads). bench/inference.ts
;; compiles it with wabt; the page grows the memory to the buffer it times.
(module
  (memory (export "memory") 1)
  (func (export "sum") (param $n i32) (result f32)
    (local $i i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (f32x4.add (local.get $a) (v128.load (local.get $i))))
        (local.set $b (f32x4.add (local.get $b) (v128.load offset=16 (local.get $i))))
        (local.set $c (f32x4.add (local.get $c) (v128.load offset=32 (local.get $i))))
        (local.set $d (f32x4.add (local.get $d) (v128.load offset=48 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $next)))
    (f32x4.extract_lane 0
      (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (f32x4.add (local.get $c) (local.get $d))))))
