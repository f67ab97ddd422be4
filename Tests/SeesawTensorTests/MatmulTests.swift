import Testing

@testable import SeesawTensor

/// Deterministic pseudo-random 64-bit words (xorshift), so failures reproduce.
func randomWords(_ count: Int, seed: UInt64) -> [UInt64] {
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  return (0..<count).map { _ in
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }
}

/// Deterministic pseudo-random floats in [-1, 1).
func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
  randomWords(count, seed: seed).map { Float($0 >> 40) / Float(1 << 23) - 1 }
}

/// y[m, n] = Σ_k x[m, k] w[n, k] in Double.
func naiveLinear(_ x: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
  var y = [Float](repeating: 0, count: m * n)
  for i in 0..<m {
    for j in 0..<n {
      var s = 0.0
      for t in 0..<k { s += Double(x[i * k + t]) * Double(w[j * k + t]) }
      y[i * n + j] = Float(s)
    }
  }
  return y
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
  zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Expects `backend`'s one-pass product of x [m, K] with all of `ws` (sharing x) to give the same bits as one product
/// at a time, with the biases.
func expectSharedPassEqualsSeparate(
  _ backend: CPUBackend, _ ws: [WeightMatrix], biases: [Tensor?], m: Int,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let k = ws[0].cols
  let x = Tensor(randomFloats(m * k, seed: UInt64(m)), shape: [m, k])
  let fused = ws.map { Tensor(zeros: [m, $0.rows]) }
  backend.linear(x, ws, biases: biases, into: fused)
  for (i, w) in ws.enumerated() {
    let single = Tensor(zeros: [m, w.rows])
    backend.linear(x, w, bias: biases[i], into: single)
    #expect(fused[i].toArray() == single.toArray(), "matrix \(i), m \(m)", sourceLocation: sourceLocation)
  }
}

@Suite("Matmul")
struct MatmulTests {
  @Test("the small-batch SIMD kernel equals a naive product for ragged shapes", arguments: [1, 2, 3, 4, 5, 7, 16])
  func smallBatch(m: Int) {
    for (n, k) in [(1, 16), (5, 24), (17, 70), (33, 576), (64, 3)] {
      let x = randomFloats(m * k, seed: UInt64(m * 1000 + n))
      let w = randomFloats(n * k, seed: UInt64(k))
      var y = [Float](repeating: .nan, count: m * n)
      x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          y.withUnsafeMutableBufferPointer { yp in
            Matmul.linear(xp.baseAddress!, wp.baseAddress!, yp.baseAddress!, m: m, n: n, k: k)
          }
        }
      }
      #expect(maxAbsDiff(y, naiveLinear(x, w, m: m, n: n, k: k)) < 1e-4, "m \(m) n \(n) k \(k)")
    }
  }

  @Test("the BLAS path and the SIMD path agree with a naive product at a large batch, and the bias is added")
  func largeBatchWithBias() {
    let (m, n, k) = (140, 24, 48)
    let x = randomFloats(m * k, seed: 1)
    let w = randomFloats(n * k, seed: 2)
    let bias = randomFloats(n, seed: 3)
    let expected = naiveLinear(x, w, m: m, n: n, k: k)
    for path in [Matmul.blas, Matmul.simd] {
      var y = [Float](repeating: .nan, count: m * n)
      path(x, w, &y, m, n, k)
      #expect(maxAbsDiff(y, expected) < 1e-4)
    }
    var withBias = expected
    for i in 0..<m { for j in 0..<n { withBias[i * n + j] += bias[j] } }
    for kernel in Matmul.Kernel.allCases {
      let y = Tensor(zeros: [m, n])
      CPUBackend(linearKernel: kernel).linear(
        Tensor(x, shape: [m, k]), WeightMatrix(Tensor(w, shape: [n, k])), bias: Tensor(bias, shape: [n]), into: y)
      #expect(maxAbsDiff(y.toArray(), withBias) < 1e-4, "\(kernel)")
    }
  }
}
