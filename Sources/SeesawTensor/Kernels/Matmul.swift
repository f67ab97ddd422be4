import CBLAS

/// `y = x · wᵀ`, the product every linear layer computes, with weights stored as [outFeatures, inFeatures].
///
/// Large batches go to OpenBLAS sgemm. Small batches (decode) use a register-blocked SIMD kernel: BLAS reaches a
/// fraction of the bandwidth roof at M ≤ 16 on this machine, while this kernel streams each weight row once for
/// up to four activation rows and splits the output features over the cores.
public enum Matmul {
  /// Up to this many rows of `x` take the SIMD path; measured with `seesaw bench forward`.
  nonisolated(unsafe) public static var maxSmallM = 16

  /// y[m, n] = Σ_k x[m, k] · w[n, k]  (+ bias[n])
  /// - Parameters: x [M, K], w [N, K], y [M, N] (row-major, contiguous).
  public static func linear(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, bias: UnsafePointer<Float>? = nil
  ) {
    if m == 0 || n == 0 { return }
    if m <= maxSmallM {
      ParallelFor.chunks(n, granularity: 16) { range in
        smallM(x, w, y, m: m, n: n, k: k, rows: range)
      }
    } else {
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
        1, x, Int32(k), w, Int32(k), 0, y, Int32(n))
    }
    if let bias {
      for i in 0..<m {
        let row = y + i * n
        for j in 0..<n { row[j] += bias[j] }
      }
    }
  }

  /// The SIMD kernel over output features `rows` (a sub-range of 0..<n).
  static func smallM(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, rows: Range<Int>
  ) {
    var j = rows.lowerBound
    while j + 4 <= rows.upperBound {
      var i = 0
      while i + 4 <= m {
        tile4x4(x + i * k, w + j * k, y + i * n + j, k: k, ldy: n)
        i += 4
      }
      while i < m {
        for jj in j..<(j + 4) { y[i * n + jj] = dot(x + i * k, w + jj * k, k) }
        i += 1
      }
      j += 4
    }
    while j < rows.upperBound {
      for i in 0..<m { y[i * n + j] = dot(x + i * k, w + j * k, k) }
      j += 1
    }
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
    var sum = (acc0 + acc1).sum()
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
    var r0 = SIMD4<Float>(a00.sum(), a01.sum(), a02.sum(), a03.sum())
    var r1 = SIMD4<Float>(a10.sum(), a11.sum(), a12.sum(), a13.sum())
    var r2 = SIMD4<Float>(a20.sum(), a21.sum(), a22.sum(), a23.sum())
    var r3 = SIMD4<Float>(a30.sum(), a31.sum(), a32.sum(), a33.sum())
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
