import Testing

@testable import SeesawTensor

@Suite("Matmul paths")
struct MatmulPathTests {
  static let dtypes: [DType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]

  @Test("every path equals the product with weights dequantized up front, for every stored form", arguments: dtypes)
  func pathsMatchDequantizedProduct(dtype: DType) {
    let shapes: [(n: Int, k: Int)] =
      dtype.blockSize == 256
      ? [(3, 256), (70, 768), (9, 1280), (300, 256)] : [(1, 32), (33, 96), (70, 576), (40, 1056), (300, 96)]
    for (n, k) in shapes {
      let w = WeightMatrix.random(dtype, rows: n, cols: k, seed: UInt64(n * 31 + k))
      var dense = [Float](repeating: 0, count: n * k)
      dense.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      // 144 and 530: several panels, a last one of 16 and of 18 tokens, and (530) two blocks of 16 panels.
      for m in [1, 3, 4, 5, 9, 16, 37, 50, 144, 530] {
        let x = randomFloats(m * k, seed: UInt64(m))
        let expected = naiveLinear(x, dense, m: m, n: n, k: k)
        let scale = max(1, expected.map(abs).max() ?? 1)
        for path in Matmul.Path.allCases {
          var y = [Float](repeating: .nan, count: m * n)
          x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
              Matmul.linear(xp.baseAddress!, w, yp.baseAddress!, m: m, path: path)
            }
          }
          #expect(maxAbsDiff(y, expected) / scale < 1e-5, "\(dtype) \(path) m \(m) n \(n) k \(k)")
        }
      }
    }
  }

  @Test("the prefill GEMM's pieces cover every (panel, row) once, in row chunks of 8s and of at least 128 rows")
  func scratchPiecesCoverTheProduct() {
    for (groups, rows, threads) in [
      (64, 192, 2), (64, 576, 2), (64, 5632, 2), (4, 576, 2), (4, 192, 2), (5, 70, 2),
      (17, 300, 2), (64, 2048, 8), (1, 8, 2), (64, 576, 1),
    ] {
      let pieces = Matmul.scratchPieces(groups: groups, rows: rows, threads: threads)
      var covered = [Int](repeating: 0, count: groups * rows)
      for i in 0..<pieces.count {
        let (panels, rowRange) = pieces.piece(i)
        #expect(panels.count <= Matmul.scratchGroups && rowRange.lowerBound % 8 == 0)
        #expect(rowRange.count >= min(rows, Matmul.scratchMinRows), "\(groups) x \(rows): piece \(i) \(rowRange)")
        for g in panels { for r in rowRange { covered[g * rows + r] += 1 } }
      }
      #expect(covered.allSatisfy { $0 == 1 }, "\(groups) panels x \(rows) rows, \(threads) threads")
      // Enough pieces for the cores whenever the product has that many panels.
      #expect(pieces.count >= min(2 * threads, groups), "\(groups) x \(rows): \(pieces.count) pieces")
    }
    // SmolLM2's k/v projections at 2048 tokens: whole 192-row chunks, split by panel blocks only.
    let kv = Matmul.scratchPieces(groups: 64, rows: 192, threads: 2)
    #expect(kv.rowChunks == 1 && kv.panelChunks == 4)
  }

  @Test("products that share x run as one f32 pass with the same bits as one product at a time, biases included")
  func sharedInputPassEqualsSeparateProducts() {
    let ws = [
      WeightMatrix.random(.q4_1, rows: 302, cols: 96, seed: 21),
      WeightMatrix.random(.q8_0, rows: 42, cols: 96, seed: 22),
      WeightMatrix.random(.bf16, rows: 9, cols: 96, seed: 23),
    ]
    let backend = CPUBackend()
    let biases: [Tensor?] = [nil, Tensor(randomFloats(42, seed: 9), shape: [42]), nil]
    // Below 16 rows (32 on AMD) Q4_1 and Q8_0 take `.digits` (VNNI): float formats of the same shapes show the gemv and
    // tiled passes there. 1, 2 and 5: gemv; 8 and 13: tiled; 16 and 50: `.rows` (50: `.rowsScratch` on AMD); 144:
    // `.rowsScratch`; 530: `.onednn` (one chunk of x against halves of each matrix on two threads; on AMD
    // `.rowsScratch`, and 2050 `.onednn`).
    let floats = [
      WeightMatrix.random(.f16, rows: 302, cols: 96, seed: 24),
      WeightMatrix.random(.f32, rows: 42, cols: 96, seed: 25),
      ws[2],
    ]
    // From 16 rows BF16 takes `.amx` on AMX CPUs: an F16 matrix in its place keeps three formats on one path.
    let mixed = [ws[0], ws[1], WeightMatrix.random(.f16, rows: 9, cols: 96, seed: 23)]
    for m in [1, 2, 5, 8, 13, 16, 50, 144, 530] + (Matmul.amd ? [2050] : []) {
      let shared = m < 16 ? floats : mixed
      // At 16 rows, without AVX-512 F16 stays on gemv while Q4_1 and Q8_0 take `.rows`, and where vpdpbusd runs at
      // the FMAs' rate they take `.digits` while F16 takes `.rows`: one product at a time.
      // On AMD with AVX-512, F16 and BF16 keep gemv at 8 and 13 rows of 96 values and F32 takes `.tiled`.
      let apart =
        m == 16 && (!Matmul.hasAVX512 || Matmul.vnniAtFMARate) || (m == 8 || m == 13) && Matmul.hasAVX512 && Matmul.amd
      #expect(Matmul.sharedPath(m: m, shared) == (apart ? nil : Matmul.path(m: m, k: 96, dtype: shared[0].dtype)))
      expectSharedPassEqualsSeparate(backend, shared, biases: biases, m: m)
    }
    // BF16 matrices share one pass too: `.amx` (x split once) on AMX CPUs.
    let bf16s = [302, 42, 9].map { WeightMatrix.random(.bf16, rows: $0, cols: 96, seed: UInt64($0)) }
    for m in [16, 50, 530] {
      #expect(Matmul.sharedPath(m: m, bf16s) == Matmul.path(m: m, k: 96, dtype: .bf16))
      expectSharedPassEqualsSeparate(backend, bf16s, biases: biases, m: m)
    }
    // Below 16 rows (32 where vpdpbusd runs at the FMAs' rate): Q4_1 and Q8_0 take `.digits` together (with VNNI),
    // BF16 does not (without AVX-512 all three take gemv up to 11 rows).
    let digits = Array(ws[0..<2])
    for m in [1, 5, 11] + (Matmul.vnniAtFMARate ? [16, 31] : []) {
      #expect(Matmul.sharedPath(m: m, digits) == Matmul.path(m: m, k: 96, dtype: .q4_1))
      expectSharedPassEqualsSeparate(backend, digits, biases: Array(biases[0..<2]), m: m)
      #expect(Matmul.sharedPath(m: m, ws) == (Matmul.digitsApply(.q4_1) ? nil : Matmul.path(m: m, dtype: .bf16)))
      expectSharedPassEqualsSeparate(backend, ws, biases: biases, m: m)
    }
    // Formats that choose different paths (BF16 gemv and the K-quants digits below 16 rows with VNNI; without it,
    // Q6_K leaves gemv at 4 rows), one matrix, or different K: one product at a time.
    let vnni = Matmul.digitsApply(.q6_K)
    let q8 = WeightMatrix.random(.q8_0, rows: 8, cols: 256, seed: 3)
    let q6 = WeightMatrix.random(.q6_K, rows: 8, cols: 256, seed: 2)
    let bf16 = WeightMatrix.random(.bf16, rows: 8, cols: 256, seed: 5)
    #expect(Matmul.sharedPath(m: 1, [bf16, q6]) == (vnni ? nil : .gemv))
    #expect(Matmul.sharedPath(m: 3, [bf16, q6]) == (vnni ? nil : .gemv))
    // The K-quants in a shared pass (Q4_K_M's q/k/v, attn_v in Q6_K): digits with VNNI, else gemv, whose row groups
    // of four fall as in a product of its own (30 rows: not whole groups).
    let q4K = WeightMatrix.random(.q4_K, rows: 30, cols: 256, seed: 4)
    for m in [1, 3, 5, 11, 13] {
      // Without VNNI, one pass where both take one path: gemv up to 3 rows with AVX-512, up to 11 without it (at 13
      // Q4_K takes `.rows`, Q6_K gemv); the tiled kernel from 8 rows with AVX-512.
      let (a, b) = (Matmul.path(m: m, dtype: .q4_K), Matmul.path(m: m, dtype: .q6_K))
      let expected: Matmul.Path? = vnni ? .digits : a == b ? a : nil
      #expect(Matmul.sharedPath(m: m, [q4K, q6]) == expected)
      expectSharedPassEqualsSeparate(backend, [q4K, q6], biases: [nil, nil], m: m)
    }
    #expect(Matmul.sharedPath(m: 1, [q4K, q6, bf16]) == (vnni ? nil : .gemv))
    expectSharedPassEqualsSeparate(backend, [q4K, q6, bf16], biases: [nil, nil, nil], m: 1)
    #expect(Matmul.sharedPath(m: 5, [bf16, q6]) == (Matmul.hasAVX512 ? nil : .gemv))
    #expect(Matmul.sharedPath(m: 5, [q8, q6]) == (vnni ? .digits : Matmul.hasAVX512 ? nil : .gemv))
    // From 16 rows Q6_K takes `.rows`, and Q8_0 too unless vpdpbusd runs at the FMAs' rate (then `.digits`); without
    // AVX-512 Q6_K stays on gemv.
    #expect(Matmul.sharedPath(m: 16, [q8, q6]) == (Matmul.vnniAtFMARate || !Matmul.hasAVX512 ? nil : .rows))
    expectSharedPassEqualsSeparate(backend, [q8, q6], biases: [nil, nil], m: 16)
    #expect(Matmul.sharedPath(m: 64, [ws[0]]) == nil)
    #expect(Matmul.sharedPath(m: 64, [ws[0], WeightMatrix.random(.q4_1, rows: 8, cols: 64, seed: 1)]) == nil)
  }

  @Test("digits take up to 15 rows of x, or 31 (not Q6_K) where vpdpbusd runs at the FMAs' rate")
  func digitsRowsFollowVNNIRate() {
    for dtype in [DType.q8_0, .q4_0, .q4_1, .q4_K] {
      #expect(Matmul.digitsMaxRows(dtype, vnniAtFMARate: true) == 31, "\(dtype)")
      #expect(Matmul.digitsMaxRows(dtype, vnniAtFMARate: false) == 15, "\(dtype)")
    }
    #expect(Matmul.digitsMaxRows(.q6_K, vnniAtFMARate: true) == 15)
    #expect(!Matmul.vnniAtFMARate || Matmul.hasVNNI)
  }

  @Test("the scratch-tile loop nest takes 32 rows of x and more on AMD, 128 and more elsewhere")
  func scratchTilesFollowVendor() {
    #expect(Matmul.rowsScratchMinRows(amd: true) == 32 && Matmul.rowsScratchMinRows(amd: false) == 128)
    #expect(Matmul.rowsScratchMinRows() == (Matmul.amd ? 32 : 128))
  }

  @Test(
    "with AVX-512: gemv for a few rows, weight rows against packed x for more, oneDNN or AMX for many",
    .enabled(if: Matmul.hasAVX512))
  func pathByBatchSize() {
    let vnni = Matmul.hasVNNI
    #expect(Matmul.path(m: 1, dtype: .q4_1) == (vnni ? .digits : .gemv))
    // Digits up to 15 rows, or 31 where vpdpbusd runs at the FMAs' rate (not for Q6_K).
    let wide = Matmul.vnniAtFMARate
    #expect(Matmul.path(m: 15, dtype: .q8_0) == (vnni ? .digits : .tiled))
    #expect(Matmul.path(m: 16, dtype: .q8_0) == (wide ? .digits : .rows))
    // On AMD the scratch-tile loop nest from 32 rows, elsewhere from 128.
    #expect(Matmul.path(m: 31, dtype: .q4_0) == (wide ? .digits : .rows))
    #expect(Matmul.path(m: 32, dtype: .q4_0) == (Matmul.amd ? .rowsScratch : .rows))
    #expect(Matmul.path(m: 1, dtype: .q4_K) == (vnni ? .digits : .gemv))
    #expect(Matmul.path(m: 7, dtype: .q4_K) == (vnni ? .digits : .gemv))
    #expect(Matmul.path(m: 3, dtype: .q6_K) == (vnni ? .digits : .gemv))
    #expect(Matmul.path(m: 4, dtype: .q6_K) == (vnni ? .digits : .tiled))
    #expect(Matmul.path(m: 7, dtype: .bf16) == .gemv && Matmul.path(m: 8, dtype: .bf16) == .tiled)
    // On AMD, 2-byte float weights keep gemv to 16 rows while x fits in 48 KiB; F32 weights do not.
    let amd = Matmul.amd
    #expect(Matmul.path(m: 16, k: 576, dtype: .f16) == (amd ? .gemv : .rows))
    #expect(Matmul.path(m: 12, k: 1024, dtype: .bf16) == (amd ? .gemv : .tiled))
    #expect(Matmul.path(m: 16, k: 1024, dtype: .f16) == .rows && Matmul.path(m: 8, k: 2048, dtype: .bf16) == .tiled)
    #expect(Matmul.path(m: 12, k: 576, dtype: .f32) == .tiled && Matmul.path(m: 7, k: 2048, dtype: .f16) == .gemv)
    #expect(Matmul.path(m: 12, dtype: .q4_K) == (vnni ? .digits : .tiled))
    #expect(Matmul.path(m: 16, dtype: .q4_K) == (wide ? .digits : .rows) && Matmul.path(m: 16, dtype: .q6_K) == .rows)
    #expect(Matmul.path(m: 31, dtype: .f16) == .rows)
    #expect(Matmul.path(m: 127, dtype: .q6_K) == (Matmul.amd ? .rowsScratch : .rows))
    #expect(Matmul.path(m: 64, dtype: .f16) == (Matmul.amd ? .rowsScratch : .rows))
    #expect(Matmul.path(m: 128, dtype: .q4_0) == .rowsScratch && Matmul.path(m: 511, dtype: .f16) == .rowsScratch)
    // oneDNN from 512 rows, from 2048 on AMD.
    #expect(Matmul.onednnMinRows(amd: true) == 2048 && Matmul.onednnMinRows(amd: false) == 512)
    #expect(Matmul.path(m: 512, dtype: .f16) == (Matmul.amd ? .rowsScratch : .onednn))
    #expect(Matmul.path(m: 2047, dtype: .q4_0) == (Matmul.amd ? .rowsScratch : .onednn))
    #expect(Matmul.path(m: 2048, dtype: .q6_K) == .onednn)
    // BF16 weights from 16 rows: AMX tiles where the CPU has them, otherwise the paths of the other formats.
    let amx = Matmul.amxAvailable
    #expect(Matmul.path(m: 15, dtype: .bf16) == .tiled && Matmul.path(m: 16, dtype: .bf16) == (amx ? .amx : .rows))
    #expect(Matmul.path(m: 1024, dtype: .bf16) == (amx ? .amx : Matmul.amd ? .rowsScratch : .onednn))
    #expect(Matmul.path(m: 2048, dtype: .bf16) == (amx ? .amx : .onednn))
    #expect(Matmul.path(m: 2048, dtype: .f32) == .onednn && Matmul.path(m: 2048, dtype: .q8_0) == .onednn)
  }

  @Test(
    "without AVX-512 (AVX2): gemv up to 11 or 16 rows, weight rows against packed x up to 63, oneDNN from 64",
    .enabled(if: !Matmul.hasAVX512 && Matmul.hasAVX2))
  func pathByBatchSizeWithoutAVX512() {
    for dtype in MatmulPathTests.dtypes {
      // The 4-bit formats and Q8_0 leave gemv after 11 rows, the float formats and Q6_K after 16.
      let gemvRows = [.q4_0, .q4_1, .q4_K, .q8_0].contains(dtype) ? 11 : 16
      #expect(Matmul.path(m: 1, dtype: dtype) == .gemv && Matmul.path(m: gemvRows, dtype: dtype) == .gemv, "\(dtype)")
      #expect(Matmul.path(m: gemvRows + 1, dtype: dtype) == .rows && Matmul.path(m: 63, dtype: dtype) == .rows)
      #expect(Matmul.path(m: 64, dtype: dtype) == .onednn && Matmul.path(m: 2048, dtype: dtype) == .onednn)
    }
    // Paths written for AVX-512, forced, give way to the one the CPU runs.
    for path in [Matmul.Path.packed, .rowsScratch, .digits] { #expect(!Matmul.runsHere(path, .q4_0)) }
    #expect(Matmul.runsHere(.gemv, .q4_K) && Matmul.runsHere(.gemv, .q6_K) && Matmul.runsHere(.rows, .q6_K))
  }

  @Test("oneDNN's pieces cover every (row of x, weight row) once, in token chunks of at least 512 rows, one per core")
  func onednnGridCoversTheProduct() {
    for (m, threads) in [(512, 2), (530, 2), (1023, 2), (1024, 2), (2048, 2), (2048, 1), (600, 3), (2048, 16)] {
      let grid = Matmul.OnednnGrid(m: m, threads: threads)
      #expect(grid.count >= threads, "\(m) rows of x, \(threads) threads: \(grid.count) pieces")
      for rows in [1, 8, 192, 576, 5632] {
        var covered = [Int](repeating: 0, count: m * rows)
        for i in 0..<grid.count {
          let (tokens, part) = grid.piece(i)
          #expect(tokens.count >= min(m, Matmul.onednnMinTokens) && tokens.lowerBound % 16 == 0)
          let range = grid.rows(part, of: rows)
          #expect(range.lowerBound % 16 == 0 || range.isEmpty)
          for t in tokens { for r in range { covered[t * rows + r] += 1 } }
        }
        #expect(covered.allSatisfy { $0 == 1 }, "\(m) x \(rows), \(threads) threads")
      }
    }
    // Two threads: 2048 rows of x in two chunks of 1024 against every weight row; 530 in one chunk against halves.
    let big = Matmul.OnednnGrid(m: 2048, threads: 2)
    #expect(big.tokenChunks == 2 && big.rowParts == 1 && big.piece(1).tokens == 1024..<2048)
    let small = Matmul.OnednnGrid(m: 530, threads: 2)
    #expect(small.tokenChunks == 1 && small.rows(1, of: 576) == 288..<576)
  }

  @Test("oneDNN's weight blocks fill 16 MiB (an L2 for AVX2's fewer rows), cover a part once, differ by ≤ 16 rows")
  func onednnBlocksAreEven() {
    // SmolLM2's matrices (576 columns) whole; TinyLlama's in blocks of 2048 rows of 2048 or 736 of 5632 columns.
    for avx512 in [false, true] {
      #expect(Matmul.onednnBlockRows(k: 576, m: 2048, avx512: avx512) == 7280)
      #expect(Matmul.onednnBlockRows(k: 2048, m: 1024, avx512: avx512) == 2048)
      #expect(Matmul.onednnBlockRows(k: 5632, m: 4096, avx512: avx512) == 736)
      #expect(Matmul.onednnBlockRows(k: 1 << 20, m: 2048, avx512: avx512) == 16)
    }
    // AVX2's fewer rows of x: blocks of an L2, 64 rows of 2048 columns, 16 of 5632 (23 rounded down to 16s).
    #expect(Matmul.onednnBlockRows(k: 2048, m: 64, avx512: false) == 64)
    #expect(Matmul.onednnBlockRows(k: 5632, m: 1023, avx512: false) == 16)
    #expect(Matmul.onednnBlockRows(k: 576, m: 512, avx512: false) == 224)
    // AVX-512 products take oneDNN from 512 rows of x, every one with 16 MiB blocks.
    #expect(Matmul.onednnBlockRows(k: 576, m: 512, avx512: true) == 7280)
    #expect(Matmul.onednnBlockRows(k: 5632, m: 1023, avx512: true) == 736)
    for (rows, blockRows) in [(0..<192, 7280), (16..<5632, 736), (0..<32000, 2048), (288..<576, 64), (0..<49, 16)] {
      let blocks = Matmul.onednnBlocks(rows, blockRows: blockRows)
      #expect(blocks.count == (rows.count + blockRows - 1) / blockRows, "\(rows) in blocks of \(blockRows)")
      #expect(blocks.first?.lowerBound == rows.lowerBound && blocks.last?.upperBound == rows.upperBound)
      #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
      #expect(blocks.allSatisfy { ($0.lowerBound - rows.lowerBound) % 16 == 0 && $0.count <= blockRows })
      let sizes = blocks.dropLast().map(\.count)
      #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 16)
    }
    #expect(Matmul.onednnBlocks(0..<0, blockRows: 64).isEmpty)
  }

  @Test(
    "bf16 and int8 products stay within their rounding bounds of the f32 product, and differ from it",
    arguments: [DType.bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func reducedPrecisionWithinBounds(dtype: DType) throws {
    let (n, k) = dtype.blockSize == 256 ? (40, 768) : (40, 1056)
    let w = WeightMatrix.random(dtype, rows: n, cols: k, seed: 7)
    var dense = [Float](repeating: 0, count: n * k)
    dense.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
    for precision in [ComputePrecision.bf16, .int8] where precision.isAvailable {
      for m in [1, 5, 16, 37] {
        let x = randomFloats(m * k, seed: UInt64(100 + m))
        let exact = naiveLinear(x, dense, m: m, n: n, k: k)
        var y = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer { yp in
            Matmul.linear(xp.baseAddress!, w, yp.baseAddress!, m: m, precision: precision)
          }
        }
        // Per output: bf16 rounds both factors (relative 2^-8 each); int8 moves each x by at most half a step
        // (max |x| of its block / 254); f32 sums add their own rounding. The int8 copies keep the K-quants' scales
        // exact.
        let appliesInt8 = precision == .int8 && InterleavedWeights.reads(dtype)
        var worst = 0.0
        for i in 0..<m {
          for j in 0..<n {
            var bound = 1e-4
            for b in 0..<(k / 32) {
              let block = (b * 32)..<(b * 32 + 32)
              let amax = block.map { Double(abs(x[i * k + $0])) }.max()!
              for t in block {
                let (xv, wv) = (Double(x[i * k + t]), Double(dense[j * k + t]))
                bound += abs(xv * wv) * (precision == .bf16 ? 0.0079 : 1e-6) + (appliesInt8 ? abs(wv) * amax / 254 : 0)
              }
            }
            worst = max(worst, abs(Double(y[i * n + j]) - Double(exact[i * n + j])) / bound)
          }
        }
        #expect(worst <= 1, "\(dtype) \(precision) m \(m): error \(worst) of the bound")
        if precision == .bf16 || appliesInt8 {
          #expect(maxAbsDiff(y, exact) > 1e-6, "\(dtype) \(precision) m \(m) took the f32 path")
        }
      }
    }
  }
}
