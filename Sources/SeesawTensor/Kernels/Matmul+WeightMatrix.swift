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
    if let bias { addBias(y, bias, m: m, n: n) }
  }

  /// The compact-weight kernel over output features `rows`.
  static func compactRows(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows: Range<Int>,
    buffer: UnsafeMutablePointer<Float>
  ) {
    tiled(x, y, m: m, n: w.rows, k: w.cols, rows: rows) { j, count in
      w.dequantize(rows: j, count: count, into: buffer)
      return UnsafePointer(buffer)
    }
  }
}
