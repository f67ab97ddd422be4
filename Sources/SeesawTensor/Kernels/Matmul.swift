import CBLAS
import Foundation

/// `y = x · wᵀ`, the product every linear layer computes, with weights stored as [outFeatures, inFeatures].
///
/// A register-blocked SIMD kernel (4 rows of x against 4 rows of w, 16 accumulators), with rows of x blocked to
/// stay in L2 and output features split over the cores. Measured with `seesaw bench matmul` on the development
/// machine (AVX-512, 2 vCPUs), it beats Debian's OpenBLAS sgemm at every M: 2-4x at M ≤ 64, ~2x at M = 512
/// (150 vs 72 GFLOP/s). OpenBLAS stays selectable (`Kernel.blas`) for machines where it wins.
public enum Matmul {
  /// Which implementation computes a product.
  public enum Kernel: String, Sendable, CaseIterable {
    case simd, blas
  }

  /// y[m, n] = Σ_k x[m, k] · w[n, k]  (+ bias[n])
  /// - Parameters: x [M, K], w [N, K], y [M, N] (row-major, contiguous).
  public static func linear(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, bias: UnsafePointer<Float>? = nil, kernel: Kernel = .simd
  ) {
    if m == 0 || n == 0 { return }
    switch kernel {
    case .simd: simd(x, w, y, m: m, n: n, k: k)
    case .blas: blas(x, w, y, m: m, n: n, k: k)
    }
    if let bias { addBias(y, bias, m: m, n: n) }
  }

  /// y = x · wᵀ through OpenBLAS sgemm.
  public static func blas(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, x, Int32(k), w, Int32(k), 0, y,
      Int32(n))
  }

  /// y = x · wᵀ through the SIMD kernel, output features split over the cores.
  public static func simd(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int
  ) {
    ParallelFor.chunks(n, granularity: 16) { range in
      smallM(x, w, y, m: m, n: n, k: k, rows: range)
    }
  }

  /// Bytes of x kept in L2 while a thread's weight rows stream past (half of this machine's L2).
  static let xBlockBytes = max(256 << 10, sysconf(Int32(_SC_LEVEL2_CACHE_SIZE)) / 2)

  /// Rows of x processed against all of a thread's weight rows before moving on: as many as fit in
  /// `xBlockBytes`, so weights are read M/mBlock times and x never spills to memory.
  @inline(__always) static func mBlock(k: Int) -> Int { max(16, xBlockBytes / (4 * k) / 4 * 4) }

  /// The SIMD kernel over output features `rows` (a sub-range of 0..<n), f32 weights in place.
  static func smallM(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, rows: Range<Int>
  ) {
    tiled(x, y, m: m, n: n, k: k, rows: rows) { j, _ in w + j * k }
  }

  /// The tiled product over output features `rows`: `weights(j, count)` gives weight rows j..<j+count as
  /// contiguous f32 [count, K] (in place for f32 weights, freshly dequantized for compact ones).
  @inline(__always) static func tiled(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, rows: Range<Int>,
    weights: (Int, Int) -> UnsafePointer<Float>
  ) {
    let mBlock = mBlock(k: k)
    var m0 = 0
    while m0 < m {
      let m1 = min(m, m0 + mBlock)
      var j = rows.lowerBound
      while j + 4 <= rows.upperBound {
        let w4 = weights(j, 4)  // [4, K]
        var i = m0
        while i + 4 <= m1 {
          tile4x4(x + i * k, w4, y + i * n + j, k: k, ldy: n)
          i += 4
        }
        while i < m1 {
          for r in 0..<4 { y[i * n + j + r] = dot(x + i * k, w4 + r * k, k) }
          i += 1
        }
        j += 4
      }
      while j < rows.upperBound {
        let w1 = weights(j, 1)  // [1, K]
        for i in m0..<m1 { y[i * n + j] = dot(x + i * k, w1, k) }
        j += 1
      }
      m0 = m1
    }
  }

  /// y[i, :] += bias for every row.
  static func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, m: Int, n: Int) {
    for i in 0..<m { Elementwise.add(y + i * n, bias, count: n) }
  }

  /// Horizontal sum by halving (the generic `SIMD.sum()` is an out-of-line call in the inner loops).
  @inline(__always) public static func hsum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
  }

  @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  /// Dot product of two length-k vectors.
  @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var t = 0
    while t + 32 <= k {
      acc0.addProduct(load(a + t), load(b + t))
      acc1.addProduct(load(a + t + 16), load(b + t + 16))
      t += 32
    }
    while t + 16 <= k {
      acc0.addProduct(load(a + t), load(b + t))
      t += 16
    }
    var sum = hsum(acc0 + acc1)
    while t < k {
      sum += a[t] * b[t]
      t += 1
    }
    return sum
  }

  /// Four rows of x against four rows of w: 16 SIMD accumulators, each weight vector loaded once for four rows.
  @inline(__always) static func tile4x4(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, k: Int, ldy: Int
  ) {
    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
    var t = 0
    while t + 16 <= k {
      let w0 = load(w + t), w1 = load(w + k + t), w2 = load(w + 2 * k + t), w3 = load(w + 3 * k + t)
      let x0 = load(x + t)
      a00.addProduct(x0, w0); a01.addProduct(x0, w1); a02.addProduct(x0, w2); a03.addProduct(x0, w3)
      let x1 = load(x + k + t)
      a10.addProduct(x1, w0); a11.addProduct(x1, w1); a12.addProduct(x1, w2); a13.addProduct(x1, w3)
      let x2 = load(x + 2 * k + t)
      a20.addProduct(x2, w0); a21.addProduct(x2, w1); a22.addProduct(x2, w2); a23.addProduct(x2, w3)
      let x3 = load(x + 3 * k + t)
      a30.addProduct(x3, w0); a31.addProduct(x3, w1); a32.addProduct(x3, w2); a33.addProduct(x3, w3)
      t += 16
    }
    var r0 = SIMD4<Float>(hsum(a00), hsum(a01), hsum(a02), hsum(a03))
    var r1 = SIMD4<Float>(hsum(a10), hsum(a11), hsum(a12), hsum(a13))
    var r2 = SIMD4<Float>(hsum(a20), hsum(a21), hsum(a22), hsum(a23))
    var r3 = SIMD4<Float>(hsum(a30), hsum(a31), hsum(a32), hsum(a33))
    while t < k {
      let wt = SIMD4<Float>(w[t], w[k + t], w[2 * k + t], w[3 * k + t])
      r0 += x[t] * wt; r1 += x[k + t] * wt; r2 += x[2 * k + t] * wt; r3 += x[3 * k + t] * wt
      t += 1
    }
    for c in 0..<4 {
      y[c] = r0[c]; y[ldy + c] = r1[c]; y[2 * ldy + c] = r2[c]; y[3 * ldy + c] = r3[c]
    }
  }
}
