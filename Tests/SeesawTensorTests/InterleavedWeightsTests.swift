import CSeesawKernels
import Testing

@testable import SeesawTensor

@Suite("Interleaved weights of the int8 kernels")
struct InterleavedWeightsTests {
  /// ggml's int8 scheme in Double: each block of 32 of x quantized to q = round(x / d) (nearest, ties to even) with
  /// d = max |x| / 127, then Σ w · d q with the weights dequantized exactly.
  static func reference(_ x: [Float], _ dense: [Float], m: Int, n: Int, k: Int) -> (y: [Double], scale: [Double]) {
    var y = [Double](repeating: 0, count: m * n)
    var scale = y
    for i in 0..<m {
      var xq = [Double](repeating: 0, count: k)
      for b in 0..<(k / 32) {
        let block = (b * 32)..<(b * 32 + 32)
        let d = (block.map { abs(x[i * k + $0]) }.max() ?? 0) / 127
        let id: Float = d != 0 ? 1 / d : 0
        for t in block { xq[t] = Double(d) * Double((x[i * k + t] * id).rounded(.toNearestOrEven)) }
      }
      for j in 0..<n {
        for t in 0..<k {
          y[i * n + j] += Double(dense[j * k + t]) * xq[t]
          scale[i * n + j] += abs(Double(dense[j * k + t]) * xq[t])
        }
      }
    }
    return (y, scale)
  }

  @Test(
    "int8 products from the interleaved copy equal ggml's block arithmetic, for partial groups and sliced views",
    .enabled(if: ComputePrecision.int8.isAvailable), arguments: [DType.q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func matchesBlockArithmetic(dtype: DType) {
    // The K-quants' super-blocks hold 8 blocks of 32: their matrices are 8 times as wide (their copies keep d · sc
    // and dmin · m exact, so the same bound holds).
    let wide = dtype.blockSize / 32
    let whole = WeightMatrix.random(dtype, rows: 40, cols: 1056 * wide, seed: 11)
    let matrices = [
      WeightMatrix.random(dtype, rows: 1, cols: 32 * wide, seed: 1),
      WeightMatrix.random(dtype, rows: 17, cols: 96 * wide, seed: 2),
      whole,
      whole.slice(columns: (64 * wide)..<(640 * wide)),  // rows 1056 blocks apart: a row-parallel rank's share
      whole.slice(rows: 5..<38),
    ]
    for w in matrices {
      let (n, k) = (w.rows, w.cols)
      var dense = [Float](repeating: 0, count: n * k)
      dense.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      for m in [1, 2, 5, 8, 19, 35] {
        let x = randomFloats(m * k, seed: UInt64(7 * m + k))
        let (expected, scale) = Self.reference(x, dense, m: m, n: n, k: k)
        var y = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer { yp in
            Matmul.linear(xp.baseAddress!, w, yp.baseAddress!, m: m, precision: .int8)
          }
        }
        let worst = (0..<(m * n)).map { abs(Double(y[$0]) - expected[$0]) / max(scale[$0], 1e-3) }.max() ?? 0
        #expect(worst < 1e-5, "\(dtype) n \(n) k \(k) m \(m): relative error \(worst)")
      }
    }
  }

  @Test(
    "the copies take as many bytes as the file's blocks (Q4_K 3% more: d and dmin per row and super-block)",
    arguments: [DType.q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func copiesTakeTheFilesBytes(dtype: DType) {
    let w = WeightMatrix.random(dtype, rows: 64, cols: 512, seed: 3)
    let ratio = Double(InterleavedWeights(w).byteCount) / Double(w.byteCount)
    #expect(dtype == .q4_K ? abs(ratio - 296.0 / 288) < 1e-9 : ratio == 1, "\(dtype): \(ratio)")
  }

  @Test(
    "int8 products of many rows (several row blocks of the pass, a partial panel) equal each row's product alone",
    .enabled(if: ComputePrecision.int8.isAvailable), arguments: [DType.q8_0, .q4_0, .q4_1, .q6_K])
  func manyRowsEqualRowsAlone(dtype: DType) {
    let w = WeightMatrix.random(dtype, rows: 72, cols: dtype == .q6_K ? 256 : 96, seed: 21)
    let (m, n, k) = (2 * Matmul.int8RowBlock + 37, w.rows, w.cols)
    let x = randomFloats(m * k, seed: 22)
    var whole = [Float](repeating: .nan, count: m * n)
    var alone = whole
    x.withUnsafeBufferPointer { xp in
      whole.withUnsafeMutableBufferPointer {
        Matmul.linear(xp.baseAddress!, w, $0.baseAddress!, m: m, precision: .int8)
      }
      alone.withUnsafeMutableBufferPointer { yp in
        for i in 0..<m {
          Matmul.linear(xp.baseAddress! + i * k, w, yp.baseAddress! + i * n, m: 1, precision: .int8)
        }
      }
    }
    #expect(whole == alone)
  }

  @Test("products that share x (q/k/v) run as one int8 pass with the same results as one product at a time")
  func sharedInputPassEqualsSeparateProducts() {
    let ws = [
      WeightMatrix.random(.q4_0, rows: 40, cols: 96, seed: 4), WeightMatrix.random(.q8_0, rows: 16, cols: 96, seed: 5),
      WeightMatrix.random(.q4_1, rows: 7, cols: 96, seed: 6),
    ]
    let backend = CPUBackend(precision: .int8)
    // Q4_K_M's q/k/v where attn_v is Q6_K: one int8 pass too.
    let kQuants = [
      WeightMatrix.random(.q4_K, rows: 40, cols: 512, seed: 7),
      WeightMatrix.random(.q4_K, rows: 16, cols: 512, seed: 8),
      WeightMatrix.random(.q6_K, rows: 16, cols: 512, seed: 9),
    ]
    #expect(Matmul.int8Applies(kQuants) == ComputePrecision.int8.isAvailable)
    for m in [1, 3, 8, 9, 33] {
      let biases: [Tensor?] = [nil, Tensor(randomFloats(16, seed: 9), shape: [16]), nil]
      expectSharedPassEqualsSeparate(backend, ws, biases: biases, m: m)
      expectSharedPassEqualsSeparate(backend, kQuants, biases: [nil, nil, nil], m: m)
    }
  }

  @Test(
    "the AVX2 int8 kernels quantize x and sum the blocks bit for bit as the VNNI ones do",
    .enabled(if: Matmul.hasVNNI), arguments: [DType.q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func avx2KernelsEqualVNNI(dtype: DType) {
    let w = WeightMatrix.random(dtype, rows: 44, cols: 96 * (dtype.blockSize / 32), seed: 31)
    let copy = w.interleaved()
    let (n, k, blocks) = (w.rows, w.cols, w.cols / 32)
    for m in [1, 3, 6, 16, 21] {
      let x = randomFloats(m * k, seed: UInt64(40 + m))
      var (xq, xqAVX2) = ([Int8](repeating: 0, count: m * k), [Int8](repeating: 1, count: m * k))
      let zero = seesaw_q8_aux(d: 0, minus8sum: 0, minus128sum: 0, dsum: 0, minus128lo: 0, minus128hi: 0)
      var aux = [seesaw_q8_aux](repeating: zero, count: m * blocks)
      var auxAVX2 = aux
      seesaw_quantize_panels_q8(x, m, k, 0, m, &xq, &aux)
      seesaw_quantize_panels_q8_avx2(x, m, k, 0, m, &xqAVX2, &auxAVX2)
      #expect(xq == xqAVX2, "\(dtype) m \(m): quants")
      #expect(aux.map(\.d) == auxAVX2.map(\.d) && aux.map(\.minus128lo) == auxAVX2.map(\.minus128lo))
      #expect(aux.map(\.minus128hi) == auxAVX2.map(\.minus128hi) && aux.map(\.dsum) == auxAVX2.map(\.dsum))
      var (y, yAVX2) = ([Float](repeating: .nan, count: m * n), [Float](repeating: .nan, count: m * n))
      seesaw_gemv_int8_x16(copy.code, copy.quants, copy.scales, n, 0, copy.groups, xq, aux, k, m, &y, n)
      seesaw_gemv_int8_x16_avx2(copy.code, copy.quants, copy.scales, n, 0, copy.groups, xq, aux, k, m, &yAVX2, n)
      #expect(y.map(\.bitPattern) == yAVX2.map(\.bitPattern), "\(dtype) m \(m): products")
    }
  }

  @Test(
    "an int8 backend makes the copies when it materialises a shard and frees them when it releases it",
    .enabled(if: ComputePrecision.int8.isAvailable))
  func backendMaterialisesAndReleases() {
    let w = WeightMatrix.random(.q4_0, rows: 48, cols: 64, seed: 3)
    let backend = CPUBackend(precision: .int8)
    #expect(!w.hasInterleaved)
    backend.materialize([w])
    #expect(w.hasInterleaved)
    let made = w.interleaved()
    backend.materialize([w])
    #expect(w.interleaved() === made)
    backend.release([w])
    #expect(!w.hasInterleaved)
    #expect(w.interleaved() !== made)
  }
}
