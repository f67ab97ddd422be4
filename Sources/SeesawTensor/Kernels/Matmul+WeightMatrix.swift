extension Matmul {
  /// y [M, N] = x [M, K] · wᵀ (+ bias) for weights in any stored form. F32 weights take the plain kernels;
  /// compact ones are dequantized four rows at a time into an L1-resident buffer and multiplied by the same 4x4
  /// tile, so results equal those of weights expanded to f32 at load.
  public static func linear(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int,
    bias: UnsafePointer<Float>? = nil, kernel: Kernel = .simd
  ) {
    let (n, k) = (w.rows, w.cols)
    if let floats = w.floats {
      linear(x, floats, y, m: m, n: n, k: k, bias: bias, kernel: kernel)
      return
    }
    if m == 0 || n == 0 { return }
    ParallelFor.chunks(n, granularity: 16) { range in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * k) { buffer in
        compactRows(x, w, y, m: m, rows: range, buffer: buffer.baseAddress!)
      }
    }
    if let bias {
      for i in 0..<m {
        let row = y + i * n
        for j in 0..<n { row[j] += bias[j] }
      }
    }
  }

  /// The compact-weight kernel over output features `rows`.
  static func compactRows(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows: Range<Int>,
    buffer: UnsafeMutablePointer<Float>
  ) {
    let (n, k) = (w.rows, w.cols)
    let mBlock = mBlock(k: k)
    var m0 = 0
    while m0 < m {
      let m1 = min(m, m0 + mBlock)
      var j = rows.lowerBound
      while j + 4 <= rows.upperBound {
        w.dequantize(rows: j, count: 4, into: buffer)  // [4, K]
        var i = m0
        while i + 4 <= m1 {
          tile4x4(x + i * k, buffer, y + i * n + j, k: k, ldy: n)
          i += 4
        }
        while i < m1 {
          for r in 0..<4 { y[i * n + j + r] = dot(x + i * k, buffer + r * k, k) }
          i += 1
        }
        j += 4
      }
      while j < rows.upperBound {
        w.dequantize(rows: j, count: 1, into: buffer)
        for i in m0..<m1 { y[i * n + j] = dot(x + i * k, buffer, k) }
        j += 1
      }
      m0 = m1
    }
  }
}
