import CSeesawKernels

extension Matmul {
  /// Whether f32 products with `dtype` weights can take the `.digits` path: VNNI, and a format of the interleaved
  /// copies (which keep the file's scales exactly).
  static func digitsApply(_ dtype: DType) -> Bool {
    hasVNNI && InterleavedWeights.reads(dtype)
  }

  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ to f32's accuracy from the matrices' interleaved copies, x as 31-bit
  /// integers per block of 32 (`seesaw_encode_digits`), the groups of 16 rows of all the matrices split over the
  /// cores as one pass. Every matrix must `digitsApply`, with the same K.
  static func digitProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int
  ) {
    let k = ws[0].cols
    let blocks = k / 32
    withUnsafeTemporaryAllocation(of: InterleavedWeights.self, capacity: ws.count) { copies in
      _ = copies.initialize(from: ws.lazy.map { $0.interleaved() })
      defer { copies.deinitialize() }
      // xd [M, K/32, 4, 32], aux [M, K/32]
      ScratchArena.with(Int8.self, m * blocks * 128, seesaw_digits_aux.self, m * blocks) { xd, aux in
        seesaw_encode_digits(x, k, 0, m, xd, aux)
        // Chunks of whole groups of 16 rows.
        ParallelFor.dynamic(stackHeight(ws, alignment: 16), granularity: 16) { range in
          forEachStacked(ws, alignment: 16, range) { i, rows in
            let (copy, group0) = (copies[i], rows.lowerBound / 16)
            seesaw_gemv_digits_x16(
              copy.code, copy.quants, copy.scales, copy.rows, group0, (rows.upperBound + 15) / 16 - group0, xd, aux,
              k, m, ys[i], copy.rows)
          }
        }
      }
    }
  }
}
