;; SIMD (f32x4) matmul kernels for the CPU: the fast twins of matmulForward, matmulTransposedForward,
;; matmulBackward and matmulTransposedBackward in engine/kernels.ts, with the same semantics.
;; engine/wasm/index.ts loads them; after editing this file run `npm run build:wasm`, which writes
;; the bytes into kernels.wasm.ts (a test fails while the two differ).
;;
;; Every pointer is a byte offset into the imported linear memory and every matrix is row-major f32.
;; The first heapBase bytes belong to these kernels (packing buffers); pointer 0 means "no bias".
;;
;; One general product does all the work:
;;   $gemm: C (M, Nc) (+)= A (M, K) @ B (K, Nc), A (m, k) at a + m*ars + k*aks, B (k, j) at
;;          b + k*bks + j*bjs, C (m, j) at c + m*ldc + 4j.
;; Strides express every transpose for free: the tied head's wᵀ is B with bks = 4, a weight
;; gradient's inpᵀ is A with ars = 4. mode says where C starts: 0 = zero, 1 = the bias row, 2 = its
;; current contents (+=, the backward kernels).
;;
;; How it is fast (the scheme of GotoBLAS, Goto & van de Geijn, "Anatomy of High-Performance
;; Matrix Multiplication", ACM TOMS 2008): the product is cut into blocks of KC = 512 values of k,
;; NCB = 512 columns and MC = 32 rows. Each block of B is copied ("packed") into panels of 8
;; columns laid out k by k, and each block of A into tiles of 4 rows laid out k by k, whatever the
;; strides were. A kernel then keeps a 4 × 8 tile of C in eight v128 locals and, per k, reads two
;; vectors of B and four floats of A, all contiguous, for 32 multiply-adds. The panel of B (16 KiB)
;; and a tile of A (8 KiB) fit in L1 together; the block of A (64 KiB) stays in L2 while every
;; panel runs against it. Copying costs one read and one write per element of A and B, against
;; the 2·NCB or 2·M flops that reuse each. Packing also pads the edges with zeros, so any M, K, Nc
;; work; edge tiles go through a scratch tile so that nothing outside C is written. These sizes
;; were the fastest of those tried on the training shapes (bench/kernels.ts); they matter little.
;;
;; The kernel body is not unrolled on purpose: V8 hoists the loads of an unrolled body to its top
;; and then runs out of the 15 vector registers it allocates on x64, spilling the accumulators.
;;
;; Fewer than 8 rows (M = 1: decoding one token) skip packing, which would cost as much as the
;; product: row kernels stream B once in memory order, which is what a matrix-vector product is
;; bound by.
(module
  (import "env" "memory" (memory 1))

  ;; the scratch tile for edges (4 × 8 floats), then the packed blocks of A (MC × KC floats) and B
  ;; (KC × NCB floats); the caller's tensors start at heapBase (1088 KiB)
  (global $edge i32 (i32.const 64))
  (global $packA i32 (i32.const 256))
  (global $packB i32 (i32.const 65792))
  (global (export "heapBase") i32 (i32.const 1114368))

  ;; ---------------------------------------------------------------------------------------------
  ;; The packed product

  ;; C tile (4, 8) at c (row stride ldc) = mode init + the packed tile of A (4, kn) at pa times the
  ;; packed panel of B (kn, 8) at pb.
  (func $kernel4x8 (param $c i32) (param $pa i32) (param $pb i32) (param $bias i32) (param $kn i32)
      (param $ldc i32) (param $mode i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $end i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (local.set $s00 (v128.load (local.get $bias)))
        (local.set $s01 (v128.load offset=16 (local.get $bias)))
        (local.set $s10 (local.get $s00)) (local.set $s11 (local.get $s01))
        (local.set $s20 (local.get $s00)) (local.set $s21 (local.get $s01))
        (local.set $s30 (local.get $s00)) (local.set $s31 (local.get $s01))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $s00 (v128.load (local.get $c)))
        (local.set $s01 (v128.load offset=16 (local.get $c)))
        (local.set $s10 (v128.load (local.get $c1)))
        (local.set $s11 (v128.load offset=16 (local.get $c1)))
        (local.set $s20 (v128.load (local.get $c2)))
        (local.set $s21 (v128.load offset=16 (local.get $c2)))
        (local.set $s30 (v128.load (local.get $c3)))
        (local.set $s31 (v128.load offset=16 (local.get $c3)))))
    (if (local.get $kn)
      (then
        (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kn) (i32.const 4))))
        (loop $k
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $x (v128.load32_splat (local.get $pa)))
          (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=4 (local.get $pa)))
          (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=8 (local.get $pa)))
          (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=12 (local.get $pa)))
          (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (br_if $k (i32.ne (local.tee $pa (i32.add (local.get $pa) (i32.const 16))) (local.get $end))))))
    (v128.store (local.get $c) (local.get $s00))
    (v128.store offset=16 (local.get $c) (local.get $s01))
    (v128.store (local.get $c1) (local.get $s10))
    (v128.store offset=16 (local.get $c1) (local.get $s11))
    (v128.store (local.get $c2) (local.get $s20))
    (v128.store offset=16 (local.get $c2) (local.get $s21))
    (v128.store (local.get $c3) (local.get $s30))
    (v128.store offset=16 (local.get $c3) (local.get $s31)))

  ;; A tile at the edge of C, with only rows × cols (at most 4 × 8) inside it: run the kernel on
  ;; the scratch tile, started from the valid corner of C or of the bias, and copy that corner back.
  (func $edgeTile (param $c i32) (param $pa i32) (param $pb i32) (param $bias i32) (param $kn i32)
      (param $ldc i32) (param $mode i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $v f32)
    (local.set $r (i32.const 0))
    (loop $row
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $v (f32.const 0))
        (if (i32.and (i32.lt_u (local.get $r) (local.get $rows)) (i32.lt_u (local.get $j) (local.get $cols)))
          (then
            (if (i32.eq (local.get $mode) (i32.const 2))
              (then (local.set $v (f32.load (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 2)))))))
            (if (i32.eq (local.get $mode) (i32.const 1))
              (then (local.set $v (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))))
        (f32.store (i32.add (global.get $edge) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2))) (local.get $v))
        (br_if $col (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 8))))
      (br_if $row (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
    (call $kernel4x8 (global.get $edge) (local.get $pa) (local.get $pb) (i32.const 0) (local.get $kn) (i32.const 32) (i32.const 2))
    (local.set $r (i32.const 0))
    (loop $row
      (local.set $j (i32.const 0))
      (loop $col
        (f32.store (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 2)))
          (f32.load (i32.add (global.get $edge) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2)))))
        (br_if $col (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $cols))))
      (br_if $row (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rows)))))

  ;; Pack the block A (mn, kn), A (m, k) at a + m*ars + k*aks, into tiles of 4 rows laid out k by
  ;; k: packA[t*4kn + 4k + r] = A (4t + r, k), zero rows padding the last tile.
  (func $packA (param $a i32) (param $ars i32) (param $aks i32) (param $mn i32) (param $kn i32)
    (local $m i32) (local $mPad i32) (local $dst i32) (local $src i32) (local $k i32)
    (local.set $mPad (i32.and (i32.add (local.get $mn) (i32.const 3)) (i32.const -4)))
    (if (i32.eqz (local.get $kn)) (then (return)))
    (loop $row
      (local.set $dst (i32.add (global.get $packA)
        (i32.add (i32.mul (i32.shr_u (local.get $m) (i32.const 2)) (i32.shl (local.get $kn) (i32.const 4)))
                 (i32.shl (i32.and (local.get $m) (i32.const 3)) (i32.const 2)))))
      (local.set $src (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $ars))))
      (local.set $k (local.get $kn))
      (if (i32.and (i32.eq (local.get $ars) (i32.const 4))
                   (i32.and (i32.eqz (i32.and (local.get $m) (i32.const 3)))
                            (i32.le_u (i32.add (local.get $m) (i32.const 4)) (local.get $mn))))
        (then
          ;; a transposed A: the tile's four rows are four adjacent floats, one vector per k
          (loop $k4
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $aks)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br_if $k4 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
          (local.set $m (i32.add (local.get $m) (i32.const 4))))
        (else
          (if (i32.lt_u (local.get $m) (local.get $mn))
            (then
              (loop $k1
                (f32.store (local.get $dst) (f32.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $aks)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (br_if $k1 (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
            (else
              (loop $k0
                (f32.store (local.get $dst) (f32.const 0))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (br_if $k0 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
          (local.set $m (i32.add (local.get $m) (i32.const 1)))))
      (br_if $row (i32.lt_u (local.get $m) (local.get $mPad)))))

  ;; Pack the block B (kn, jn), B (k, j) at b + k*bks + j*bjs, into panels of 8 columns laid out k
  ;; by k: packB[p*8kn + 8k + jj] = B (k, 8p + jj), zero columns padding the last panel.
  (func $packB (param $b i32) (param $bks i32) (param $bjs i32) (param $kn i32) (param $jn i32)
    (local $j i32) (local $jPad i32) (local $dst i32) (local $src i32) (local $k i32)
    (local.set $jPad (i32.and (i32.add (local.get $jn) (i32.const 7)) (i32.const -8)))
    (if (i32.eqz (local.get $kn)) (then (return)))
    (loop $col
      (local.set $dst (i32.add (global.get $packB)
        (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $kn) (i32.const 5)))
                 (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 2)))))
      (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bjs))))
      (local.set $k (local.get $kn))
      (if (i32.and (i32.eq (local.get $bjs) (i32.const 4))
                   (i32.and (i32.eqz (i32.and (local.get $j) (i32.const 7)))
                            (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $jn))))
        (then
          ;; rows of B contiguous in j: two vectors per k
          (loop $k8
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $bks)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (br_if $k8 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
          (local.set $j (i32.add (local.get $j) (i32.const 8))))
        (else
          (if (i32.lt_u (local.get $j) (local.get $jn))
            (then
              (loop $k1
                (f32.store (local.get $dst) (f32.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $bks)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (br_if $k1 (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
            (else
              (loop $k0
                (f32.store (local.get $dst) (f32.const 0))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (br_if $k0 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))))
      (br_if $col (i32.lt_u (local.get $j) (local.get $jPad)))))

  ;; C (M, Nc) (+)= A (M, K) @ B (K, Nc) with the strides described at the top of the file.
  (func $gemm (param $c i32) (param $a i32) (param $b i32) (param $bias i32)
      (param $M i32) (param $K i32) (param $Nc i32)
      (param $ars i32) (param $aks i32) (param $bks i32) (param $bjs i32) (param $ldc i32) (param $mode i32)
    (local $j0 i32) (local $jn i32) (local $k0 i32) (local $kn i32) (local $modeK i32)
    (local $m0 i32) (local $mn i32) (local $jp i32) (local $mt i32) (local $pa i32) (local $pb i32)
    (local $ct i32) (local $m i32)
    (if (i32.or (i32.eqz (local.get $M)) (i32.eqz (local.get $Nc))) (then (return)))
    (if (i32.lt_u (local.get $M) (i32.const 8))
      (then
        (loop $row
          (if (i32.eq (local.get $bjs) (i32.const 4))
            (then
              (call $nnRow (i32.add (local.get $c) (i32.mul (local.get $m) (local.get $ldc)))
                (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $ars)))
                (local.get $b) (local.get $bias) (local.get $K) (local.get $aks) (local.get $bks)
                (local.get $Nc) (local.get $mode)))
            (else
              ;; B (k, j) at b + 4k + j*bjs: rows of B are the dot products' second operands
              (call $ntRow (i32.add (local.get $c) (i32.mul (local.get $m) (local.get $ldc)))
                (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $ars)))
                (local.get $b) (local.get $K) (local.get $bjs) (local.get $Nc) (local.get $mode))))
          (br_if $row (i32.lt_u (local.tee $m (i32.add (local.get $m) (i32.const 1))) (local.get $M))))
        (return)))
    (loop $colBlock
      (local.set $jn (i32.sub (local.get $Nc) (local.get $j0)))
      (if (i32.gt_u (local.get $jn) (i32.const 512)) (then (local.set $jn (i32.const 512))))
      (local.set $k0 (i32.const 0))
      (local.set $modeK (local.get $mode))
      (loop $kBlock
        ;; a K of 0 still makes one pass, which writes the bias or zeros
        (local.set $kn (i32.sub (local.get $K) (local.get $k0)))
        (if (i32.gt_u (local.get $kn) (i32.const 512)) (then (local.set $kn (i32.const 512))))
        (call $packB
          (i32.add (local.get $b) (i32.add (i32.mul (local.get $k0) (local.get $bks)) (i32.mul (local.get $j0) (local.get $bjs))))
          (local.get $bks) (local.get $bjs) (local.get $kn) (local.get $jn))
        (local.set $m0 (i32.const 0))
        (loop $rowBlock
          (local.set $mn (i32.sub (local.get $M) (local.get $m0)))
          (if (i32.gt_u (local.get $mn) (i32.const 32)) (then (local.set $mn (i32.const 32))))
          (call $packA
            (i32.add (local.get $a) (i32.add (i32.mul (local.get $m0) (local.get $ars)) (i32.mul (local.get $k0) (local.get $aks))))
            (local.get $ars) (local.get $aks) (local.get $mn) (local.get $kn))
          ;; every panel of 8 columns against every tile of 4 rows: the panel stays in L1
          (local.set $jp (i32.const 0))
          (local.set $pb (global.get $packB))
          (loop $panel
            (local.set $mt (i32.const 0))
            (local.set $pa (global.get $packA))
            (loop $tile
              (local.set $ct (i32.add (local.get $c)
                (i32.add (i32.mul (i32.add (local.get $m0) (local.get $mt)) (local.get $ldc))
                         (i32.shl (i32.add (local.get $j0) (local.get $jp)) (i32.const 2)))))
              (if (i32.and (i32.le_u (i32.add (local.get $mt) (i32.const 4)) (local.get $mn))
                           (i32.le_u (i32.add (local.get $jp) (i32.const 8)) (local.get $jn)))
                (then
                  (call $kernel4x8 (local.get $ct) (local.get $pa) (local.get $pb)
                    (i32.add (local.get $bias) (i32.shl (i32.add (local.get $j0) (local.get $jp)) (i32.const 2)))
                    (local.get $kn) (local.get $ldc) (local.get $modeK)))
                (else
                  (call $edgeTile (local.get $ct) (local.get $pa) (local.get $pb)
                    (i32.add (local.get $bias) (i32.shl (i32.add (local.get $j0) (local.get $jp)) (i32.const 2)))
                    (local.get $kn) (local.get $ldc) (local.get $modeK)
                    (select (i32.const 4) (i32.sub (local.get $mn) (local.get $mt))
                      (i32.le_u (i32.add (local.get $mt) (i32.const 4)) (local.get $mn)))
                    (select (i32.const 8) (i32.sub (local.get $jn) (local.get $jp))
                      (i32.le_u (i32.add (local.get $jp) (i32.const 8)) (local.get $jn))))))
              (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $kn) (i32.const 4))))
              (br_if $tile (i32.lt_u (local.tee $mt (i32.add (local.get $mt) (i32.const 4))) (local.get $mn))))
            (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $kn) (i32.const 5))))
            (br_if $panel (i32.lt_u (local.tee $jp (i32.add (local.get $jp) (i32.const 8))) (local.get $jn))))
          (br_if $rowBlock (i32.lt_u (local.tee $m0 (i32.add (local.get $m0) (local.get $mn))) (local.get $M))))
        ;; later blocks of K add to what the earlier ones wrote
        (local.set $modeK (i32.const 2))
        (br_if $kBlock (i32.lt_u (local.tee $k0 (i32.add (local.get $k0) (local.get $kn))) (local.get $K))))
      (br_if $colBlock (i32.lt_u (local.tee $j0 (i32.add (local.get $j0) (local.get $jn))) (local.get $Nc)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Row kernels, for fewer than 8 rows

  ;; One row: C (1, Nc) at c = mode init + A (1, kn) @ B (kn, Nc). Four rows of B are walked in
  ;; memory order at once, so C is loaded and stored once per 16 multiply-adds and B streams from
  ;; memory exactly once: the matrix-vector product of decoding is bound by bandwidth, not by this.
  (func $nnRow (param $c i32) (param $a i32) (param $b i32) (param $bias i32) (param $kn i32)
      (param $aks i32) (param $ldb i32) (param $Nc i32) (param $mode i32)
    (local $j i32) (local $n4 i32) (local $end i32) (local $p i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $n4 (i32.shl (i32.and (local.get $Nc) (i32.const -4)) (i32.const 2))) ;; bytes
    (local.set $end (i32.shl (local.get $Nc) (i32.const 2)))
    ;; start the row at zero or at the bias
    (if (i32.ne (local.get $mode) (i32.const 2))
      (then
        (local.set $j (i32.const 0))
        (block $done
          (loop $init
            (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
            (f32.store (i32.add (local.get $c) (local.get $j))
              (if (result f32) (local.get $mode)
                (then (f32.load (i32.add (local.get $bias) (local.get $j))))
                (else (f32.const 0))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $init)))))
    ;; four k at a time
    (block $done4
      (loop $k4
        (br_if $done4 (i32.lt_u (local.get $kn) (i32.const 4)))
        (local.set $x0 (v128.load32_splat (local.get $a)))
        (local.set $x1 (v128.load32_splat (i32.add (local.get $a) (local.get $aks))))
        (local.set $x2 (v128.load32_splat (i32.add (local.get $a) (i32.shl (local.get $aks) (i32.const 1)))))
        (local.set $x3 (v128.load32_splat (i32.add (local.get $a) (i32.mul (local.get $aks) (i32.const 3)))))
        (local.set $b1 (i32.add (local.get $b) (local.get $ldb)))
        (local.set $b2 (i32.add (local.get $b1) (local.get $ldb)))
        (local.set $b3 (i32.add (local.get $b2) (local.get $ldb)))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $j4
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $p (i32.add (local.get $c) (local.get $j)))
            (v128.store (local.get $p)
              (f32x4.add
                (f32x4.add (v128.load (local.get $p))
                  (f32x4.add
                    (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b) (local.get $j))))
                    (f32x4.mul (local.get $x1) (v128.load (i32.add (local.get $b1) (local.get $j))))))
                (f32x4.add
                  (f32x4.mul (local.get $x2) (v128.load (i32.add (local.get $b2) (local.get $j))))
                  (f32x4.mul (local.get $x3) (v128.load (i32.add (local.get $b3) (local.get $j)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $j4)))
        (block $doneT
          (loop $jt
            (br_if $doneT (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $p (i32.add (local.get $c) (local.get $j)))
            (f32.store (local.get $p)
              (f32.add
                (f32.add (f32.load (local.get $p))
                  (f32.add
                    (f32.mul (f32x4.extract_lane 0 (local.get $x0)) (f32.load (i32.add (local.get $b) (local.get $j))))
                    (f32.mul (f32x4.extract_lane 0 (local.get $x1)) (f32.load (i32.add (local.get $b1) (local.get $j))))))
                (f32.add
                  (f32.mul (f32x4.extract_lane 0 (local.get $x2)) (f32.load (i32.add (local.get $b2) (local.get $j))))
                  (f32.mul (f32x4.extract_lane 0 (local.get $x3)) (f32.load (i32.add (local.get $b3) (local.get $j)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jt)))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $aks) (i32.const 2))))
        (local.set $b (i32.add (local.get $b3) (local.get $ldb)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 4)))
        (br $k4)))
    ;; the last kn mod 4 values of k, one at a time
    (block $done1
      (loop $k1
        (br_if $done1 (i32.eqz (local.get $kn)))
        (local.set $x0 (v128.load32_splat (local.get $a)))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $j4
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $p (i32.add (local.get $c) (local.get $j)))
            (v128.store (local.get $p)
              (f32x4.add (v128.load (local.get $p))
                (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $j4)))
        (block $doneT
          (loop $jt
            (br_if $doneT (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $p (i32.add (local.get $c) (local.get $j)))
            (f32.store (local.get $p)
              (f32.add (f32.load (local.get $p))
                (f32.mul (f32x4.extract_lane 0 (local.get $x0)) (f32.load (i32.add (local.get $b) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jt)))
        (local.set $a (i32.add (local.get $a) (local.get $aks)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 1)))
        (br $k1))))

  ;; The four lane sums of s0..s3 as one vector: [Σs0, Σs1, Σs2, Σs3], with four shuffles and
  ;; three adds in two rounds (pairs of lanes, then pairs of pairs).
  (func $reduce4 (param $s0 v128) (param $s1 v128) (param $s2 v128) (param $s3 v128) (result v128)
    (local $p01 v128) (local $p23 v128)
    ;; [s0.0+s0.2, s1.0+s1.2, s0.1+s0.3, s1.1+s1.3]
    (local.set $p01 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s0) (local.get $s1))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s0) (local.get $s1))))
    (local.set $p23 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s2) (local.get $s3))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s2) (local.get $s3))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p01) (local.get $p23))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p01) (local.get $p23))))

  ;; [a(0), a(lda), a(2 lda), a(3 lda)]: one k of four rows of B, for the scalar tail of $nt1x4.
  (func $gather4 (param $a i32) (param $lda i32) (result v128)
    (f32x4.replace_lane 3
      (f32x4.replace_lane 2
        (f32x4.replace_lane 1
          (v128.load32_zero (local.get $a))
          (f32.load (i32.add (local.get $a) (local.get $lda))))
        (f32.load (i32.add (local.get $a) (i32.shl (local.get $lda) (i32.const 1)))))
      (f32.load (i32.add (local.get $a) (i32.mul (local.get $lda) (i32.const 3))))))

  ;; C (1, 4) at c (+)= A (1, kn) @ B (4, kn)ᵀ: one row against four rows of B, which stream in
  ;; memory order. This is decoding's matrix-vector product for the tied output head.
  (func $nt1x4 (param $c i32) (param $a i32) (param $b i32) (param $kn i32) (param $ldb i32) (param $mode i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $k4 i32)
    (local $x v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $b1 (i32.add (local.get $b) (local.get $ldb)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $ldb)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $ldb)))
    (if (local.tee $k4 (i32.shr_u (local.get $kn) (i32.const 2)))
      (then
        (loop $k
          (local.set $x (v128.load (local.get $a)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x) (v128.load (local.get $b)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x) (v128.load (local.get $b1)))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $x) (v128.load (local.get $b2)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $x) (v128.load (local.get $b3)))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
          (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
          (local.set $b3 (i32.add (local.get $b3) (i32.const 16)))
          (br_if $k (local.tee $k4 (i32.sub (local.get $k4) (i32.const 1)))))))
    (local.set $s0 (call $reduce4 (local.get $s0) (local.get $s1) (local.get $s2) (local.get $s3)))
    (local.set $kn (i32.and (local.get $kn) (i32.const 3)))
    (block $done
      (loop $k1
        (br_if $done (i32.eqz (local.get $kn)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load32_splat (local.get $a)) (call $gather4 (local.get $b) (local.get $ldb)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 1)))
        (br $k1)))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $c))))))
    (v128.store (local.get $c) (local.get $s0)))

  ;; C (1, 1) at c (+)= dot(A (kn), B (kn)): the leftover columns.
  (func $nt1x1 (param $c i32) (param $a i32) (param $b i32) (param $kn i32) (param $mode i32)
    (local $k4 i32) (local $v v128) (local $s f32)
    (if (local.tee $k4 (i32.shr_u (local.get $kn) (i32.const 2)))
      (then
        (loop $k
          (local.set $v (f32x4.add (local.get $v) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $k (local.tee $k4 (i32.sub (local.get $k4) (i32.const 1)))))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 2 (local.get $v)))
      (f32.add (f32x4.extract_lane 1 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
    (local.set $kn (i32.and (local.get $kn) (i32.const 3)))
    (block $done
      (loop $k1
        (br_if $done (i32.eqz (local.get $kn)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 1)))
        (br $k1)))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then (local.set $s (f32.add (local.get $s) (f32.load (local.get $c))))))
    (f32.store (local.get $c) (local.get $s)))

  ;; d (OC) += the sum of the N rows of src (N, OC): the bias gradient.
  (func $colSum (param $d i32) (param $src i32) (param $N i32) (param $OC i32)
    (local $j i32) (local $n4 i32) (local $end i32) (local $p i32)
    (local.set $n4 (i32.shl (i32.and (local.get $OC) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $OC) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $N)))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $j4
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $p (i32.add (local.get $d) (local.get $j)))
            (v128.store (local.get $p)
              (f32x4.add (v128.load (local.get $p)) (v128.load (i32.add (local.get $src) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $j4)))
        (block $doneT
          (loop $jt
            (br_if $doneT (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $p (i32.add (local.get $d) (local.get $j)))
            (f32.store (local.get $p)
              (f32.add (f32.load (local.get $p)) (f32.load (i32.add (local.get $src) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jt)))
        (local.set $src (i32.add (local.get $src) (local.get $end)))
        (local.set $N (i32.sub (local.get $N) (i32.const 1)))
        (br $row))))

  ;; One row against the rows of B: C (1, Nc) at c (+)= A (1, K) @ B (Nc, K)ᵀ, row j of B at
  ;; b + j*ldb; mode is 0 or 2.
  (func $ntRow (param $c i32) (param $a i32) (param $b i32) (param $K i32) (param $ldb i32)
      (param $Nc i32) (param $mode i32)
    (local $j i32) (local $n4 i32)
    (local.set $n4 (i32.and (local.get $Nc) (i32.const -4)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.ge_u (local.get $j) (local.get $n4)))
        (call $nt1x4 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $a)
          (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $ldb)))
          (local.get $K) (local.get $ldb) (local.get $mode))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad)))
    (block $singlesDone
      (loop $single
        (br_if $singlesDone (i32.ge_u (local.get $j) (local.get $Nc)))
        (call $nt1x1 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $a)
          (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $ldb)))
          (local.get $K) (local.get $mode))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $single))))

  ;; ---------------------------------------------------------------------------------------------
  ;; The four kernels, with the signatures of engine/kernels.ts (pointers in bytes).

  ;; out (N, OC) = inp (N, IC) @ w (IC, OC) + bias (OC); bias 0 means none.
  (func (export "matmulForward") (param $out i32) (param $inp i32) (param $w i32) (param $bias i32)
      (param $N i32) (param $IC i32) (param $OC i32)
    (call $gemm (local.get $out) (local.get $inp) (local.get $w) (local.get $bias)
      (local.get $N) (local.get $IC) (local.get $OC)
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $OC) (i32.const 2))
      (select (i32.const 1) (i32.const 0) (local.get $bias))))

  ;; out (N, OC) = inp (N, IC) @ wᵀ, w (OC, IC): B (k, j) = w (j, k).
  (func (export "matmulTransposedForward") (param $out i32) (param $inp i32) (param $w i32)
      (param $N i32) (param $IC i32) (param $OC i32)
    (call $gemm (local.get $out) (local.get $inp) (local.get $w) (i32.const 0)
      (local.get $N) (local.get $IC) (local.get $OC)
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 4)
      (i32.const 4) (i32.shl (local.get $IC) (i32.const 2))
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 0)))

  ;; dinp (N, IC) += dout (N, OC) @ wᵀ; dw (IC, OC) += inpᵀ @ dout; dbias (OC) += Σ rows of dout.
  (func (export "matmulBackward") (param $dinp i32) (param $dw i32) (param $dbias i32) (param $dout i32)
      (param $inp i32) (param $w i32) (param $N i32) (param $IC i32) (param $OC i32)
    ;; dinp: B (k, j) = w (j, k), k over OC
    (call $gemm (local.get $dinp) (local.get $dout) (local.get $w) (i32.const 0)
      (local.get $N) (local.get $OC) (local.get $IC)
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 4)
      (i32.const 4) (i32.shl (local.get $OC) (i32.const 2))
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 2))
    ;; dw: A (i, n) = inp (n, i), k over the N rows
    (call $gemm (local.get $dw) (local.get $inp) (local.get $dout) (i32.const 0)
      (local.get $IC) (local.get $N) (local.get $OC)
      (i32.const 4) (i32.shl (local.get $IC) (i32.const 2))
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 2))
    (if (local.get $dbias)
      (then (call $colSum (local.get $dbias) (local.get $dout) (local.get $N) (local.get $OC)))))

  ;; dinp (N, IC) += dout (N, OC) @ w, w (OC, IC); dw (OC, IC) += doutᵀ @ inp.
  (func (export "matmulTransposedBackward") (param $dinp i32) (param $dw i32) (param $dout i32)
      (param $inp i32) (param $w i32) (param $N i32) (param $IC i32) (param $OC i32)
    (call $gemm (local.get $dinp) (local.get $dout) (local.get $w) (i32.const 0)
      (local.get $N) (local.get $OC) (local.get $IC)
      (i32.shl (local.get $OC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 2))
    ;; dw: A (j, n) = dout (n, j), k over the N rows
    (call $gemm (local.get $dw) (local.get $dout) (local.get $inp) (i32.const 0)
      (local.get $OC) (local.get $N) (local.get $IC)
      (i32.const 4) (i32.shl (local.get $OC) (i32.const 2))
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 4)
      (i32.shl (local.get $IC) (i32.const 2)) (i32.const 2)))
  ;; ---------------------------------------------------------------------------------------------
  ;; The training step's other kernels (the 'wasm-simd-fused' set in engine/train/gpt-train.ts):
  ;; LayerNorm, GELU, the causal softmax of attention, softmax + cross-entropy and AdamW, four
  ;; floats at a time. Their twins in engine/kernels.ts and engine/train/ compute in f64 and round
  ;; once; these stay in f32 and sum in four lanes, so they agree to a few units in the last place,
  ;; not bit for bit (tests/engine/wasm-train.test.ts). Row lengths and counts must be multiples
  ;; of 4: engine/wasm/index.ts sends any other shape to the references.

  ;; e^x for four floats (the Cephes expf scheme): x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r from a
  ;; degree-6 polynomial, 2^n built in the exponent bits. Within 2 ulp of e^x on [-87.3, 88.3];
  ;; inputs outside are clamped there (results 1.2e-38 and 2.1e38 rather than 0 and Infinity).
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (f32x4.splat (f32.const 88.3)))
      (f32x4.splat (f32.const -87.3))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    ;; ln 2 in two parts, so that n·(first part) is exact
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r))
      (local.get $r)) (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func $hmax (param $v v128) (result f32)
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; ln x for a positive normal f64: x = 2^e·m with m in [√½, √2), ln m = 2·atanh(s), s = (m-1)/(m+1),
  ;; |s| ≤ 0.172, by its series to s^15 (the next term is below 1e-13 of the result).
  (func $log (param $x f64) (result f64)
    (local $bits i64) (local $e f64) (local $m f64) (local $s f64) (local $s2 f64)
    (local.set $bits (i64.reinterpret_f64 (local.get $x)))
    (local.set $e (f64.convert_i64_s (i64.sub (i64.shr_u (local.get $bits) (i64.const 52)) (i64.const 1023))))
    (local.set $m (f64.reinterpret_i64 (i64.or (i64.and (local.get $bits) (i64.const 0x000FFFFFFFFFFFFF))
      (i64.const 0x3FF0000000000000))))
    (if (f64.gt (local.get $m) (f64.const 1.4142135623730951))
      (then
        (local.set $m (f64.mul (local.get $m) (f64.const 0.5)))
        (local.set $e (f64.add (local.get $e) (f64.const 1)))))
    (local.set $s (f64.div (f64.sub (local.get $m) (f64.const 1)) (f64.add (local.get $m) (f64.const 1))))
    (local.set $s2 (f64.mul (local.get $s) (local.get $s)))
    (f64.add (f64.mul (local.get $e) (f64.const 0.6931471805599453))
      (f64.mul (f64.mul (f64.const 2) (local.get $s))
        (f64.add (f64.const 1) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.3333333333333333) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.2) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.14285714285714285) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.1111111111111111) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.09090909090909091) (f64.mul (local.get $s2)
        (f64.add (f64.const 0.07692307692307693) (f64.mul (local.get $s2) (f64.const 0.06666666666666667))))))))))))))))))

  ;; out (N, C) = (inp - mean)·rstd·w + b per row; mean and rstd (N) are written unless 0.
  (func (export "layernormForward") (param $out i32) (param $mean i32) (param $rstd i32) (param $inp i32)
      (param $w i32) (param $b i32) (param $N i32) (param $C i32) (param $eps f32)
    (local $n i32) (local $i i32) (local $end i32) (local $acc v128) (local $d v128) (local $m f32) (local $s f32)
    (local $mv v128) (local $sv v128)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $sum
        (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $inp) (local.get $i)))))
        (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $m (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))))
      (local.set $mv (f32x4.splat (local.get $m)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $var
        (local.set $d (f32x4.sub (v128.load (i32.add (local.get $inp) (local.get $i))) (local.get $mv)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
        (br_if $var (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $s (f32.div (f32.const 1) (f32.sqrt (f32.add
        (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))) (local.get $eps)))))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $i (i32.const 0))
      (loop $norm
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.add
            (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $inp) (local.get $i))) (local.get $mv)) (local.get $sv))
              (v128.load (i32.add (local.get $w) (local.get $i))))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $norm (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (if (local.get $mean) (then (f32.store (i32.add (local.get $mean) (i32.shl (local.get $n) (i32.const 2))) (local.get $m))))
      (if (local.get $rstd) (then (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))))
      (local.set $inp (i32.add (local.get $inp) (local.get $end)))
      (local.set $out (i32.add (local.get $out) (local.get $end)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $row))))

  ;; dinp (N, C) += the LayerNorm gradient, dw and db (C) += theirs (see layernormBackward in
  ;; engine/kernels.ts for the formula).
  (func (export "layernormBackward") (param $dinp i32) (param $dw i32) (param $db i32) (param $dout i32)
      (param $inp i32) (param $w i32) (param $mean i32) (param $rstd i32) (param $N i32) (param $C i32)
    (local $n i32) (local $i i32) (local $end i32) (local $mv v128) (local $sv v128)
    (local $norm v128) (local $dy v128) (local $dnorm v128) (local $a1 v128) (local $a2 v128)
    (local $m1 v128) (local $m2 v128) (local $inv f32) (local $p i32)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (local.set $inv (f32.div (f32.const 1) (f32.convert_i32_u (local.get $C))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $mv (v128.load32_splat (i32.add (local.get $mean) (i32.shl (local.get $n) (i32.const 2)))))
      (local.set $sv (v128.load32_splat (i32.add (local.get $rstd) (i32.shl (local.get $n) (i32.const 2)))))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $stats
        (local.set $norm (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $inp) (local.get $i))) (local.get $mv)) (local.get $sv)))
        (local.set $dnorm (f32x4.mul (v128.load (i32.add (local.get $w) (local.get $i))) (v128.load (i32.add (local.get $dout) (local.get $i)))))
        (local.set $a1 (f32x4.add (local.get $a1) (local.get $dnorm)))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $dnorm) (local.get $norm))))
        (br_if $stats (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $m1 (f32x4.splat (f32.mul (call $hsum (local.get $a1)) (local.get $inv))))
      (local.set $m2 (f32x4.splat (f32.mul (call $hsum (local.get $a2)) (local.get $inv))))
      (local.set $i (i32.const 0))
      (loop $grad
        (local.set $norm (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $inp) (local.get $i))) (local.get $mv)) (local.get $sv)))
        (local.set $dy (v128.load (i32.add (local.get $dout) (local.get $i))))
        (local.set $dnorm (f32x4.mul (v128.load (i32.add (local.get $w) (local.get $i))) (local.get $dy)))
        (local.set $p (i32.add (local.get $db) (local.get $i)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (local.get $dy)))
        (local.set $p (i32.add (local.get $dw) (local.get $i)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $norm) (local.get $dy))))
        (local.set $p (i32.add (local.get $dinp) (local.get $i)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
          (f32x4.mul (local.get $sv) (f32x4.sub (f32x4.sub (local.get $dnorm) (local.get $m1)) (f32x4.mul (local.get $norm) (local.get $m2))))))
        (br_if $grad (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $inp (i32.add (local.get $inp) (local.get $end)))
      (local.set $dout (i32.add (local.get $dout) (local.get $end)))
      (local.set $dinp (i32.add (local.get $dinp) (local.get $end)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $row))))

  ;; σ(2u) for GELU's u = √(2/π)·(x + 0.044715·x³): 0.5·(1 + tanh u) = 1 / (1 + e^(-2u)), which needs
  ;; one exp and no tanh.
  (func $geluSig (param $x v128) (result v128)
    (local $u v128)
    (local.set $u (f32x4.mul (f32x4.splat (f32.const 0.7978845608028654))
      (f32x4.add (local.get $x) (f32x4.mul (f32x4.splat (f32.const 0.044715))
        (f32x4.mul (local.get $x) (f32x4.mul (local.get $x) (local.get $x)))))))
    (f32x4.div (f32x4.splat (f32.const 1))
      (f32x4.add (f32x4.splat (f32.const 1)) (call $exp4 (f32x4.mul (f32x4.splat (f32.const -2)) (local.get $u))))))

  ;; out (n) = GELU(inp), tanh form: x·σ(2u).
  (func (export "geluForward") (param $out i32) (param $inp i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $x (v128.load (i32.add (local.get $inp) (local.get $i))))
      (v128.store (i32.add (local.get $out) (local.get $i)) (f32x4.mul (local.get $x) (call $geluSig (local.get $x))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))

  ;; dinp (n) += GELU'(inp)·dout. With s = σ(2u): 1 + tanh u = 2s and sech² u = 4s(1 - s), so
  ;; GELU' = s + 2·x·s·(1 - s)·√(2/π)·(1 + 3·0.044715·x²).
  (func (export "geluBackward") (param $dinp i32) (param $inp i32) (param $dout i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $s v128) (local $p i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $x (v128.load (i32.add (local.get $inp) (local.get $i))))
      (local.set $s (call $geluSig (local.get $x)))
      (local.set $p (i32.add (local.get $dinp) (local.get $i)))
      (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (f32x4.mul (v128.load (i32.add (local.get $dout) (local.get $i)))
        (f32x4.add (local.get $s)
          (f32x4.mul (f32x4.mul (f32x4.mul (f32x4.splat (f32.const 1.5957691216057308)) (local.get $x))
            (f32x4.mul (local.get $s) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $s))))
            (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.mul (f32x4.splat (f32.const 0.134145)) (f32x4.mul (local.get $x) (local.get $x)))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))

  ;; One head's scores P (T, T), in place: row t becomes softmax(scale·P[t, 0..t]) and 0 past t
  ;; (a token never sees its future). Only the first ⌈(t+1)/4⌉ vectors of a row are read; lanes
  ;; past t in the last one are masked. T must be a multiple of 4.
  (func (export "causalSoftmaxForward") (param $P i32) (param $T i32) (param $scale f32)
    (local $t i32) (local $row i32) (local $i i32) (local $nv i32) (local $end i32) (local $idx v128)
    (local $mask v128) (local $x v128) (local $mx v128) (local $sum v128) (local $sc v128) (local $tv v128)
    (local $inv v128)
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $row (local.get $P))
    (local.set $end (i32.shl (local.get $T) (i32.const 2)))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $tv (i32x4.splat (local.get $t)))
      (local.set $nv (i32.shl (i32.and (i32.add (local.get $t) (i32.const 4)) (i32.const -4)) (i32.const 2))) ;; bytes
      (local.set $mx (f32x4.splat (f32.const -inf)))
      (local.set $idx (v128.const i32x4 0 1 2 3))
      (local.set $i (i32.const 0))
      (loop $max
        (local.set $mask (i32x4.le_s (local.get $idx) (local.get $tv)))
        (local.set $x (v128.bitselect (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $i))) (local.get $sc))
          (f32x4.splat (f32.const -inf)) (local.get $mask)))
        (local.set $mx (f32x4.max (local.get $mx) (local.get $x)))
        (local.set $idx (i32x4.add (local.get $idx) (i32x4.splat (i32.const 4))))
        (br_if $max (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nv))))
      (local.set $mx (f32x4.splat (call $hmax (local.get $mx))))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $idx (v128.const i32x4 0 1 2 3))
      (local.set $i (i32.const 0))
      (loop $exp
        (local.set $mask (i32x4.le_s (local.get $idx) (local.get $tv)))
        (local.set $x (v128.and (local.get $mask) (call $exp4 (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $i))) (local.get $sc)) (local.get $mx)))))
        (v128.store (i32.add (local.get $row) (local.get $i)) (local.get $x))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $x)))
        (local.set $idx (i32x4.add (local.get $idx) (i32x4.splat (i32.const 4))))
        (br_if $exp (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nv))))
      (local.set $inv (f32x4.splat (f32.div (f32.const 1) (call $hsum (local.get $sum)))))
      (local.set $i (i32.const 0))
      (loop $scale
        (v128.store (i32.add (local.get $row) (local.get $i)) (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $i))) (local.get $inv)))
        (br_if $scale (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nv))))
      (block $zeroed (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $row) (local.get $i)) (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $zero)))
      (local.set $row (i32.add (local.get $row) (local.get $end)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $rows))))

  ;; Backward of causalSoftmaxForward, in place: dp (T, T) holds dL/dP and becomes dL/dscores,
  ;; P·(dp - Σ P·dp)·scale on each row's first t+1 entries and 0 past them. P is 0 past t, so the
  ;; masked lanes of the last vector come out 0 without a mask.
  (func (export "causalSoftmaxBackward") (param $dp i32) (param $P i32) (param $T i32) (param $scale f32)
    (local $t i32) (local $i i32) (local $nv i32) (local $end i32) (local $acc v128) (local $dot v128)
    (local $sc v128) (local $q i32)
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $end (i32.shl (local.get $T) (i32.const 2)))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $nv (i32.shl (i32.and (i32.add (local.get $t) (i32.const 4)) (i32.const -4)) (i32.const 2)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $dotl
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $P) (local.get $i)))
          (v128.load (i32.add (local.get $dp) (local.get $i))))))
        (br_if $dotl (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nv))))
      (local.set $dot (f32x4.splat (call $hsum (local.get $acc))))
      (local.set $i (i32.const 0))
      (loop $grad
        (local.set $q (i32.add (local.get $dp) (local.get $i)))
        (v128.store (local.get $q) (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $P) (local.get $i)))
          (f32x4.sub (v128.load (local.get $q)) (local.get $dot))) (local.get $sc)))
        (br_if $grad (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nv))))
      (block $zeroed (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $dp) (local.get $i)) (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $zero)))
      (local.set $dp (i32.add (local.get $dp) (local.get $end)))
      (local.set $P (i32.add (local.get $P) (local.get $end)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $rows))))

  ;; Softmax and cross-entropy fused (crossEntropyForward in engine/kernels.ts): probs (N, V) =
  ;; softmax of logits (N, V), probs may equal logits; losses (N) = -(logit[target] - max - ln Σ e).
  ;; targets (N) are i32.
  (func (export "crossEntropyForward") (param $losses i32) (param $probs i32) (param $logits i32)
      (param $targets i32) (param $N i32) (param $V i32)
    (local $n i32) (local $i i32) (local $end i32) (local $tgt f32) (local $mx v128) (local $m f32)
    (local $sum v128) (local $e v128) (local $s f32) (local $inv v128)
    (local.set $end (i32.shl (local.get $V) (i32.const 2)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $tgt (f32.load (i32.add (local.get $logits)
        (i32.shl (i32.load (i32.add (local.get $targets) (i32.shl (local.get $n) (i32.const 2)))) (i32.const 2)))))
      (local.set $mx (f32x4.splat (f32.const -inf)))
      (local.set $i (i32.const 0))
      (loop $max
        (local.set $mx (f32x4.max (local.get $mx) (v128.load (i32.add (local.get $logits) (local.get $i)))))
        (br_if $max (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $m (call $hmax (local.get $mx)))
      (local.set $mx (f32x4.splat (local.get $m)))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $exp
        (local.set $e (call $exp4 (f32x4.sub (v128.load (i32.add (local.get $logits) (local.get $i))) (local.get $mx))))
        (v128.store (i32.add (local.get $probs) (local.get $i)) (local.get $e))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
        (br_if $exp (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $s (call $hsum (local.get $sum)))
      (local.set $inv (f32x4.splat (f32.div (f32.const 1) (local.get $s))))
      (local.set $i (i32.const 0))
      (loop $norm
        (v128.store (i32.add (local.get $probs) (local.get $i)) (f32x4.mul (v128.load (i32.add (local.get $probs) (local.get $i))) (local.get $inv)))
        (br_if $norm (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      ;; -log p from the logits directly, so a tiny probability does not round to log(0)
      (f32.store (i32.add (local.get $losses) (i32.shl (local.get $n) (i32.const 2)))
        (f32.demote_f64 (f64.neg (f64.sub (f64.sub (f64.promote_f32 (local.get $tgt)) (f64.promote_f32 (local.get $m)))
          (call $log (f64.promote_f32 (local.get $s)))))))
      (local.set $logits (i32.add (local.get $logits) (local.get $end)))
      (local.set $probs (i32.add (local.get $probs) (local.get $end)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $row))))

  ;; dlogits (N, V) += dlosses[n]·(probs - onehot(target)).
  (func (export "crossEntropyBackward") (param $dlogits i32) (param $probs i32) (param $targets i32)
      (param $dlosses i32) (param $N i32) (param $V i32)
    (local $n i32) (local $i i32) (local $end i32) (local $dl f32) (local $dv v128) (local $p i32)
    (local.set $end (i32.shl (local.get $V) (i32.const 2)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $dl (f32.load (i32.add (local.get $dlosses) (i32.shl (local.get $n) (i32.const 2)))))
      (local.set $dv (f32x4.splat (local.get $dl)))
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $p (i32.add (local.get $dlogits) (local.get $i)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
          (f32x4.mul (local.get $dv) (v128.load (i32.add (local.get $probs) (local.get $i))))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))
      (local.set $p (i32.add (local.get $dlogits)
        (i32.shl (i32.load (i32.add (local.get $targets) (i32.shl (local.get $n) (i32.const 2)))) (i32.const 2))))
      (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (local.get $dl)))
      (local.set $dlogits (i32.add (local.get $dlogits) (local.get $end)))
      (local.set $probs (i32.add (local.get $probs) (local.get $end)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $row))))

  ;; One AdamW update of n parameters (engine/train/adamw.ts): m, v (n) the moments, decay (n) 1 or
  ;; 0 per parameter, c1 = 1 - β1^t and c2 = 1 - β2^t the bias corrections.
  (func (export "adamw") (param $params i32) (param $grads i32) (param $m i32) (param $v i32) (param $decay i32)
      (param $n i32) (param $lr f32) (param $beta1 f32) (param $beta2 f32) (param $eps f32) (param $wd f32)
      (param $c1 f32) (param $c2 f32)
    (local $i i32) (local $end i32) (local $g v128) (local $mv v128) (local $vv v128) (local $p v128)
    (local $b1 v128) (local $b2 v128) (local $ob1 v128) (local $ob2 v128) (local $ic1 v128) (local $ic2 v128)
    (local $lrv v128) (local $wdv v128) (local $epsv v128)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $ob1 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta1))))
    (local.set $ob2 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta2))))
    (local.set $ic1 (f32x4.splat (f32.div (f32.const 1) (local.get $c1))))
    (local.set $ic2 (f32x4.splat (f32.div (f32.const 1) (local.get $c2))))
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $wdv (f32x4.splat (local.get $wd)))
    (local.set $epsv (f32x4.splat (local.get $eps)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $g (v128.load (i32.add (local.get $grads) (local.get $i))))
      (local.set $mv (f32x4.add (f32x4.mul (local.get $b1) (v128.load (i32.add (local.get $m) (local.get $i))))
        (f32x4.mul (local.get $ob1) (local.get $g))))
      (local.set $vv (f32x4.add (f32x4.mul (local.get $b2) (v128.load (i32.add (local.get $v) (local.get $i))))
        (f32x4.mul (local.get $ob2) (f32x4.mul (local.get $g) (local.get $g)))))
      (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $vv))
      (local.set $p (v128.load (i32.add (local.get $params) (local.get $i))))
      (v128.store (i32.add (local.get $params) (local.get $i))
        (f32x4.sub (local.get $p) (f32x4.mul (local.get $lrv) (f32x4.add
          (f32x4.div (f32x4.mul (local.get $mv) (local.get $ic1))
            (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (local.get $ic2))) (local.get $epsv)))
          (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $decay) (local.get $i))) (local.get $wdv)) (local.get $p))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))
)
