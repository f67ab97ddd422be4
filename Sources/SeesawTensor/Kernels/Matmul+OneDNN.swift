import CDNNL

/// The `.onednn` products (many rows of x): weights dequantized to f32 a block of rows at a time and multiplied by
/// oneDNN's sgemm, one block per call and per thread.
extension Matmul {
  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ for one matrix or several that share x (q/k/v, gate/up) as one pass: the
  /// blocks of rows of all the matrices (`onednnBlockRows` each, from its own first row) split over the cores, each
  /// block dequantized into the thread's buffer [rows, K] (f32 weights are read in place) and handed to dnnl_sgemm,
  /// which runs it on the calling thread alone. A row's sum depends only on its matrix's blocks, so a shared pass has
  /// the bits of one product at a time.
  ///
  /// oneDNN's JIT kernel holds 150-165 GFLOP/s on one thread (92-95% of the FMA peak) on SmolLM2's prefill shapes
  /// (2048 x 1536 x 576, 2048 x 576 x 1536, 2048 x 576 x 576) from run to run, where the `.rowsScratch` loop nest
  /// gives 100-150 on the same shapes in the same minutes.
  static func onednnProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int
  ) {
    let k = ws[0].cols
    let blockRows = ws.map { onednnBlockRows(rows: $0.rows, threads: ParallelFor.numThreads) }
    let work = ws.indices.flatMap { i in
      stride(from: 0, to: ws[i].rows, by: blockRows[i]).map { (matrix: i, row: $0) }
    }
    let bufferRows = zip(ws, blockRows).filter { $0.0.floats == nil }.map { $0.1 }.max() ?? 0
    ParallelFor.dynamic(work.count, perThread: work.count) { range in
      let buffer = aligned(Float.self, bufferRows * k)  // [rows, K]
      defer { buffer.deallocate() }
      for (i, j) in work[range] {
        let w = ws[i]
        let rows = min(blockRows[i], w.rows - j)
        let weights: UnsafePointer<Float>
        if let floats = w.floats {
          weights = floats + j * k
        } else {
          w.dequantize(rows: j, count: rows, into: buffer)
          weights = UnsafePointer(buffer)
        }
        sgemm(x, weights, ys[i] + j, m: m, n: rows, k: k, ldy: w.rows)
      }
    }
  }

  /// Rows per block of a `.onednn` product of a matrix with `rows` rows: about a quarter of each thread's share (so
  /// that a slow thread leaves a short tail), a multiple of 16, at least 64 (sgemm's speed falls below) and at most
  /// 512 (a block of 2048 columns dequantizes into 4 MiB).
  static func onednnBlockRows(rows: Int, threads: Int) -> Int {
    let quarter = (rows + 4 * threads - 1) / (4 * threads)
    return min(512, max(64, (quarter + 15) / 16 * 16))
  }

  /// y [m, n] (row stride ldy) = x [m, k] · wᵀ for w [n, k] f32, on the calling thread.
  static func sgemm(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
    ldy: Int
  ) {
    omp_set_num_threads(1)  // this thread's OpenMP teams: itself alone
    let status = dnnl_sgemm(
      CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), Int64(m), Int64(n), Int64(k), 1, x, Int64(k), w, Int64(k),
      0, y, Int64(ldy))
    precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) for \(m) x \(n) x \(k)")
  }
}
