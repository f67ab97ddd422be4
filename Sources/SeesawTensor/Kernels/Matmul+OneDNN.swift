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
    let work = ws.indices.flatMap { i in
      onednnBlocks(rows: ws[i].rows, threads: ParallelFor.numThreads).map { (matrix: i, rows: $0) }
    }
    let bufferRows = work.filter { ws[$0.matrix].floats == nil }.map(\.rows.count).max() ?? 0
    ParallelFor.dynamic(work.count, perThread: work.count) { range in
      let buffer = aligned(Float.self, bufferRows * k)  // [rows, K]
      defer { buffer.deallocate() }
      for (i, rows) in work[range] {
        let w = ws[i]
        let weights: UnsafePointer<Float>
        if let floats = w.floats {
          weights = floats + rows.lowerBound * k
        } else {
          w.dequantize(rows: rows.lowerBound, count: rows.count, into: buffer)
          weights = UnsafePointer(buffer)
        }
        sgemm(x, weights, ys[i] + rows.lowerBound, m: m, n: rows.count, k: k, ldy: w.rows)
      }
    }
  }

  /// The blocks of rows of a `.onednn` product of a matrix with `rows` rows: as many as blocks of
  /// `onednnBlockRows` need, of equal size in units of 16 rows. SmolLM2's 576-row matrices on two threads take four
  /// blocks of 64 and four of 80 rows, not seven of 80 and one of 16: sgemm reads x whole for every block, however
  /// few its rows, and ran the 16-row block at 69 GFLOP/s against 104-109 for 64-80 rows (2048 x N x 576, one
  /// thread).
  static func onednnBlocks(rows: Int, threads: Int) -> [Range<Int>] {
    let target = onednnBlockRows(rows: rows, threads: threads)
    let (count, units) = ((rows + target - 1) / target, (rows + 15) / 16)
    return (0..<count).map { b in 16 * (units * b / count)..<min(rows, 16 * (units * (b + 1) / count)) }
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
