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
    arguments: [DType.q8_0, .q4_0, .q4_1, .q6_K])
  func matchesBlockArithmetic(dtype: DType) {
    // Q6_K's super-blocks hold 8 blocks of 32: its matrices are 8 times as wide (its d · sc are exact, so the
    // same bound holds).
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
    "int8 products of many rows (several row blocks of the pass, a partial panel) equal each row's product alone",
    arguments: [DType.q8_0, .q4_0, .q4_1, .q6_K])
  func manyRowsEqualRowsAlone(dtype: DType) {
    guard ComputePrecision.int8.isAvailable else { return }
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

  /// The Q4_1 matrix the int8 copy of a Q4_K matrix stands for: each sub-block of 32 a block with d = d · sc and
  /// m = -dmin · m rounded to f16, its nibbles rearranged (element t low, t + 16 high), as `seesaw_repack_x16` does.
  static func q4_1Twin(of w: WeightMatrix) -> WeightMatrix {
    let superBlocks = w.cols / 256
    var bytes = [UInt8](repeating: 0, count: w.rows * superBlocks * 8 * 20)
    for r in 0..<w.rows {
      for s in 0..<superBlocks {
        let p = w.base + r * w.rowStride + s * 144
        func byte(_ i: Int) -> Int { Int(p.load(fromByteOffset: i, as: UInt8.self)) }
        func half(_ i: Int) -> Float { Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: i, as: UInt16.self))) }
        for j in 0..<8 {  // ggml's get_scale_min_k4
          let (sc, mn) =
            j < 4
            ? (byte(4 + j) & 63, byte(8 + j) & 63)
            : ((byte(12 + j - 4) & 0xF) | ((byte(4 + j - 4) >> 6) << 4),
              (byte(12 + j - 4) >> 4) | ((byte(8 + j - 4) >> 6) << 4))
          let block = ((r * superBlocks + s) * 8 + j) * 20
          for (offset, value) in [(0, half(0) * Float(sc)), (2, -(half(2) * Float(mn)))] {
            let bits = Float16(value).bitPattern
            (bytes[block + offset], bytes[block + offset + 1]) = (UInt8(bits & 0xFF), UInt8(bits >> 8))
          }
          let shift = 4 * (j % 2)
          for t in 0..<16 {
            let q = { byte(16 + 32 * (j / 2) + $0) >> shift & 15 }
            bytes[block + 4 + t] = UInt8(q(t) | q(t + 16) << 4)
          }
        }
      }
    }
    return bytes.withUnsafeBytes {
      WeightMatrix(dtype: .q4_1, rows: w.rows, cols: w.cols, bytes: $0.baseAddress!, rowOrder: Array(0..<w.rows))
    }
  }

  @Test("a Q4_K matrix's int8 products are its Q4_1 twin's (sub-blocks with f16 scales), whose weights stay close")
  func q4_KIsItsQ4_1Twin() {
    guard ComputePrecision.int8.isAvailable else { return }
    let whole = WeightMatrix.random(.q4_K, rows: 37, cols: 1024, seed: 12)
    for w in [whole, whole.slice(columns: 256..<768), whole.slice(rows: 3..<20)] {
      let twin = Self.q4_1Twin(of: w)
      let (n, k) = (w.rows, w.cols)
      var exact = [Float](repeating: 0, count: n * k)
      var rounded = exact
      exact.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      rounded.withUnsafeMutableBufferPointer { twin.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      // f16 scales: each weight within 2^-11 of 15 |d| + |m| (its block's, in the twin), plus the f32 roundings.
      for b in 0..<(n * k / 32) {
        let p = twin.base + b / (k / 32) * twin.rowStride + b % (k / 32) * 20
        func half(_ i: Int) -> Float { Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: i, as: UInt16.self))) }
        let bound = (15 * abs(half(0)) + abs(half(2))) * (1.001 / 2048 + 1e-6)
        #expect(((32 * b)..<(32 * b + 32)).allSatisfy { abs(rounded[$0] - exact[$0]) <= bound }, "block \(b)")
      }
      #expect(rounded != exact)
      for m in [1, 5, 19] {
        let x = randomFloats(m * k, seed: UInt64(m + k))
        var y = [Float](repeating: .nan, count: m * n)
        var yTwin = y
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer {
            Matmul.linear(xp.baseAddress!, w, $0.baseAddress!, m: m, precision: .int8)
          }
          yTwin.withUnsafeMutableBufferPointer {
            Matmul.linear(xp.baseAddress!, twin, $0.baseAddress!, m: m, precision: .int8)
          }
        }
        #expect(y.map(\.bitPattern) == yTwin.map(\.bitPattern), "n \(n) k \(k) m \(m)")
      }
    }
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

  @Test("an int8 backend makes the copies when it materialises a shard and frees them when it releases it")
  func backendMaterialisesAndReleases() {
    let w = WeightMatrix.random(.q4_0, rows: 48, cols: 64, seed: 3)
    let backend = CPUBackend(precision: .int8)
    guard backend.precision.isAvailable else { return }
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
