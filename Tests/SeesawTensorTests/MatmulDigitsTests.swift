import CSeesawKernels
import Testing

@testable import SeesawTensor

@Suite("Batch-1 products through x's integer digits")
struct MatmulDigitsTests {
  /// x [m, K] whose blocks of 32 stress the encoding: a large outlier among small values, all-negative values, a
  /// block of zeros, a block below 2^-96 and values spread over 30 binary orders of magnitude.
  static func hardX(m: Int, k: Int, seed: UInt64) -> [Float] {
    var x = randomFloats(m * k, seed: seed)
    for i in 0..<m {
      for b in 0..<(k / 32) {
        let block = (i * k + b * 32)..<(i * k + b * 32 + 32)
        switch b % 6 {
        case 0: x[block.lowerBound + 7] = 3e4
        case 1: for t in block { x[t] = -abs(x[t]) - 1 }
        case 2: for t in block { x[t] = 0 }
        case 3: for t in block { x[t] *= 1e-35 }
        case 4: for t in block { x[t] *= Float(sign: .plus, exponent: (t % 30) - 15, significand: 1) }
        default: break
        }
      }
    }
    return x
  }

  @Test(
    "the product with one row of x stays within f32's error of the exact product, for partial groups and views",
    .enabled(if: Matmul.hasVNNI), arguments: [DType.q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func batchOneMatchesExactProduct(dtype: DType) throws {
    try #require(Matmul.digitsApply(dtype))
    let wide = dtype.blockSize / 32  // the K-quants' super-blocks: 8 blocks of 32
    let whole = WeightMatrix.random(dtype, rows: 70, cols: 1056 * wide, seed: 5)
    for w in [
      WeightMatrix.random(dtype, rows: 1, cols: 32 * wide, seed: 1),
      WeightMatrix.random(dtype, rows: 37, cols: 192 * wide, seed: 2),
      whole, whole.slice(rows: 16..<53), whole.slice(columns: (256 * wide)..<(800 * wide)),
    ] {
      let (n, k) = (w.rows, w.cols)
      #expect(Matmul.path(m: 1, dtype: dtype) == .digits)
      var dense = [Float](repeating: 0, count: n * k)
      dense.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      for x in [randomFloats(k, seed: UInt64(k)), Self.hardX(m: 1, k: k, seed: 3)] {
        var y = [Float](repeating: .nan, count: n)
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer { Matmul.linear(xp.baseAddress!, w, $0.baseAddress!, m: 1) }
        }
        for r in 0..<n {
          // f32's error for products summed over K is a few units of 2^-24 of Σ|w x|; rounding x to 2^-30 of its
          // block's largest |x| adds at most 2^-30 of Σ_b max|x_b| Σ_b |w|.
          var (exact, magnitude, rounding) = (0.0, 0.0, 0.0)
          for b in 0..<(k / 32) {
            let largest = Double(x[(b * 32)..<(b * 32 + 32)].map(abs).max()!)
            for t in (b * 32)..<(b * 32 + 32) {
              exact += Double(dense[r * k + t]) * Double(x[t])
              magnitude += abs(Double(dense[r * k + t]) * Double(x[t]))
              rounding += largest * abs(Double(dense[r * k + t]))
            }
          }
          #expect(
            abs(Double(y[r]) - exact) <= 0x1p-21 * magnitude + 0x1p-29 * rounding, "\(dtype) row \(r) of \(n) x \(k)")
        }
      }
    }
  }

  @Test(
    "x's encoding is four signed digits whose value, times a power-of-two scale, is x to half a step or exactly",
    .enabled(if: Matmul.hasVNNI))
  func encodingRoundsXToTwentyFourBits() {
    let k = 192
    let x = Self.hardX(m: 2, k: k, seed: 7)
    var digits = [Int8](repeating: 0, count: 2 * k / 32 * 128)
    var aux = [seesaw_digits_aux](repeating: seesaw_digits_aux(), count: 2 * k / 32)
    seesaw_encode_digits(x, k, 0, 2, &digits, &aux)
    for block in 0..<(2 * k / 32) {
      let a = aux[block]
      let values = x[(block * 32)..<(block * 32 + 32)]
      let largest = values.map(abs).max()!
      #expect(a.sum == values.reduce(0, +) || abs(a.sum - values.reduce(0, +)) <= 1e-6 * values.map(abs).reduce(0, +))
      if largest < 0x1p-96 {
        #expect(a.scale == 0 && digits[(block * 128)..<(block * 128 + 128)].allSatisfy { $0 == 0 }, "block \(block)")
        continue
      }
      #expect(a.scale.significandBitPattern == 0, "block \(block): scale \(a.scale) is not a power of two")
      #expect(largest / a.scale >= 0x1p29 && largest / a.scale < 0x1p30, "block \(block): \(largest) at \(a.scale)")
      var (sums, lowSums) = ([0, 0, 0, 0], [0, 0, 0, 0])  // Σ X_d over the block, over elements 0..<16
      for t in 0..<32 {
        let d = (0..<4).map { Int(digits[block * 128 + 32 * $0 + t]) }
        for j in 0..<4 { sums[j] += d[j] }
        if t < 16 { for j in 0..<4 { lowSums[j] += d[j] } }
        #expect(d[1...].allSatisfy { (-128...127).contains($0) } && abs(d[0]) <= 64)
        let value = Double(a.scale) * Double(16_777_216 * d[0] + 65536 * d[1] + 256 * d[2] + d[3])
        let x = Double(values[values.startIndex + t])
        // Within a factor 2^6 of the largest |x|, all of x's 24 bits; below, half a step.
        #expect(abs(x) >= Double(largest) / 64 ? value == x : abs(value - x) <= Double(a.scale) / 2, "block \(block)")
      }
      #expect([a.minus8.0, a.minus8.1, a.minus8.2, a.minus8.3] == sums.map { Int32(-8 * $0) })
      #expect([a.minus128.0, a.minus128.1, a.minus128.2, a.minus128.3] == sums.map { Int32(-128 * $0) })
      #expect([a.minus128lo.0, a.minus128lo.1, a.minus128lo.2, a.minus128lo.3] == lowSums.map { Int32(-128 * $0) })
    }
  }

  @Test(
    "each of up to 31 rows of x gets the bits of its product alone (decode batches take digits up to 31 rows on AMD)",
    .enabled(if: Matmul.hasVNNI), arguments: [DType.q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
  func rowsOfXMatchTheirOwnProducts(dtype: DType) throws {
    try #require(Matmul.digitsApply(dtype))
    // 21 groups of 16 rows, the last of 5: each core's pieces hold 2-3 groups, one of them the partial group.
    let w = WeightMatrix.random(dtype, rows: 325, cols: 2 * dtype.blockSize * 3, seed: 11)
    let (n, k) = (w.rows, w.cols)
    for m in [2, 16, 31] {
      let x = Self.hardX(m: m, k: k, seed: UInt64(m))
      var y = [Float](repeating: .nan, count: m * n)
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { Matmul.linear(xp.baseAddress!, w, $0.baseAddress!, m: m, path: .digits) }
      }
      for i in 0..<m {
        var alone = [Float](repeating: .nan, count: n)
        x.withUnsafeBufferPointer { xp in
          alone.withUnsafeMutableBufferPointer {
            Matmul.linear(xp.baseAddress! + i * k, w, $0.baseAddress!, m: 1, path: .digits)
          }
        }
        #expect(Array(y[(i * n)..<(i * n + n)]) == alone, "\(dtype): row \(i) of \(m)")
      }
    }
  }

  @Test(
    "a block of x that is not finite makes the product NaN instead of a number",
    .enabled(if: Matmul.hasVNNI))
  func nonFiniteInputPropagates() throws {
    try #require(Matmul.digitsApply(.q4_0))
    let w = WeightMatrix.random(.q4_0, rows: 16, cols: 64, seed: 9)
    for bad in [Float.infinity, .nan] {
      var x = randomFloats(64, seed: 1)
      x[40] = bad
      var y = [Float](repeating: 0, count: 16)
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { Matmul.linear(xp.baseAddress!, w, $0.baseAddress!, m: 1) }
      }
      #expect(y.allSatisfy { $0.isNaN }, "x holds \(bad)")
    }
  }

  @Test(
    "the f32 backend makes the interleaved copies of the formats it reads through digits, and only those",
    .enabled(if: Matmul.hasVNNI))
  func materializeMakesTheDigitsCopies() throws {
    try #require(Matmul.digitsApply(.q4_1))
    let (q41, q4K, bf16) = (
      WeightMatrix.random(.q4_1, rows: 16, cols: 256, seed: 1),
      WeightMatrix.random(.q4_K, rows: 16, cols: 256, seed: 2),
      WeightMatrix.random(.bf16, rows: 16, cols: 256, seed: 3)
    )
    CPUBackend().materialize([q41, q4K, bf16])
    #expect(q41.hasInterleaved && q4K.hasInterleaved && !bf16.hasInterleaved)
    CPUBackend().release([q41, q4K])
    #expect(!q41.hasInterleaved && !q4K.hasInterleaved)
  }
}
