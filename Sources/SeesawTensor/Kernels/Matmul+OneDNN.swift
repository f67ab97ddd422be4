import CDNNL

/// The `.onednn` products (many rows of x): weights dequantized to f32 a block of rows at a time and multiplied by
/// oneDNN's sgemm, one block per call and per thread.
extension Matmul {
  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ for one matrix or several that share x (q/k/v, gate/up) as one pass, split
  /// over the cores as `OnednnGrid` says: a piece is a chunk of x's rows against one part of every matrix's rows,
  /// which its thread dequantizes `onednnBlockRows` rows at a time into its own buffer [rows, K] (f32 weights are
  /// read in place) and hands to dnnl_sgemm, run on the calling thread alone. Each matrix is split by its own rows
  /// only, so a shared pass has the bits of one product at a time.
  static func onednnProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int
  ) {
    let k = ws[0].cols
    let grid = OnednnGrid(m: m, threads: ParallelFor.numThreads)
    let blockRows = onednnBlockRows(k: k, m: m)
    let bufferRows = ws.filter { $0.floats == nil }.map { min($0.rows, blockRows) }.max() ?? 0
    ParallelFor.dynamic(grid.count, perThread: grid.count) { range in
      let buffer = aligned(Float.self, bufferRows * k)  // [rows, K]
      defer { buffer.deallocate() }
      for piece in range {
        let (tokens, part) = grid.piece(piece)
        let xChunk = x + tokens.lowerBound * k
        for (i, w) in ws.enumerated() {
          for rows in onednnBlocks(grid.rows(part, of: w.rows), blockRows: blockRows) {
            let weights: UnsafePointer<Float>
            if let floats = w.floats {
              weights = floats + rows.lowerBound * k
            } else {
              w.dequantize(rows: rows.lowerBound, count: rows.count, into: buffer)
              weights = UnsafePointer(buffer)
            }
            sgemm(
              xChunk, weights, ys[i] + tokens.lowerBound * w.rows + rows.lowerBound, m: tokens.count,
              n: rows.count, k: k, ldy: w.rows)
          }
        }
      }
    }
  }

  /// How a `.onednn` product of M rows of x splits over `threads` cores: x into chunks of at least
  /// `onednnMinTokens` rows (one per core when there are enough), and each matrix's rows into as many equal parts,
  /// in units of 16, as there are cores per chunk; a piece is one chunk against one part of every matrix.
  ///
  /// sgemm packs its slice of x for every call and is slow on narrow blocks of weights: SmolLM2's 576 x 1536 Q4_1 at
  /// 2048 rows of x on two threads ran at 158-162 GFLOP/s split by weight rows (eight blocks of 64-80 rows, all of x
  /// each) and at 209-213 split by tokens (1024 each, all 576 rows); 576 x 576 185-189 -> 197-198; 1536 x 576
  /// 204-207 -> 211-215; TinyLlama's 5632 x 2048, 2048 x 5632 and 2048 x 2048 Q4_0 193-204 -> 201-217. Chunks of
  /// 512 and 256 tokens (two or four per core, claimed in turn) fell between.
  struct OnednnGrid {
    var m: Int, tokenChunks: Int, rowParts: Int
    var count: Int { tokenChunks * rowParts }

    init(m: Int, threads: Int) {
      self.m = m
      tokenChunks = max(1, min(threads, m / onednnMinTokens))
      rowParts = (threads + tokenChunks - 1) / tokenChunks
    }

    /// Piece i: its rows of x and the index of its part of every matrix's rows.
    func piece(_ i: Int) -> (tokens: Range<Int>, part: Int) {
      let (c, units) = (i / rowParts, (m + 15) / 16)
      return (min(m, 16 * (units * c / tokenChunks))..<min(m, 16 * (units * (c + 1) / tokenChunks)), i % rowParts)
    }

    /// Part `part` of a matrix with `rows` rows.
    func rows(_ part: Int, of rows: Int) -> Range<Int> {
      let units = (rows + 15) / 16
      return min(rows, 16 * (units * part / rowParts))..<min(rows, 16 * (units * (part + 1) / rowParts))
    }
  }

  /// Fewest rows of x in a chunk of a `.onednn` product (unless M is smaller).
  static let onednnMinTokens = 512

  /// `rows` in blocks of at most `blockRows`, of equal size in units of 16 rows.
  static func onednnBlocks(_ rows: Range<Int>, blockRows: Int) -> [Range<Int>] {
    let count = (rows.count + blockRows - 1) / blockRows
    let units = (rows.count + 15) / 16
    let start = { (b: Int) in rows.lowerBound + 16 * (units * b / count) }
    return (0..<count).map { b in start(b)..<min(rows.upperBound, start(b + 1)) }
  }

  /// Weight rows a `.onednn` piece dequantizes at a time with K columns for M rows of x, a multiple of 16: as many
  /// as fill 16 MiB of f32 (half this machine's L3) from `onednnLargeBlockMinRows(avx512:)` rows of x, 512 KiB (an
  /// L2) below. SmolLM2's matrices go whole at 2048 rows of x (up to 7280 rows of 576 columns), TinyLlama's in
  /// blocks of 2048 rows, or 736 of 5632 columns; at 64 rows (AVX2) in blocks of 64 of 2048 columns. At 2048 rows of
  /// x on two threads, 16 MiB ran TinyLlama's shapes at 207-213 GFLOP/s, 8 MiB at 200-209 and 2 MiB at 175-195
  /// (AVX-512 host), and 5632 x 2048 Q4_0/BF16 at 105-132 vs 97-125 with 512 KiB at 1024-2048 rows (Zen 3).
  static func onednnBlockRows(k: Int, m: Int, avx512: Bool = hasAVX512) -> Int {
    let bytes = m >= onednnLargeBlockMinRows(avx512: avx512) ? 16 << 20 : 512 << 10
    return max(16, bytes / (4 * k) / 16 * 16)
  }

  /// Fewest rows of x whose `.onednn` blocks fill 16 MiB rather than an L2. Every call of sgemm packs its x again,
  /// so small blocks pay that once per few weight rows; with few rows of x each weight serves few FLOPs, and a block
  /// that spills from L2 is written to L3 and read back at L3's speed. With AVX2 (Zen 3, where oneDNN takes 64 rows
  /// of x and more, each core's sgemm running at a third of an AVX-512 core's speed) the second cost wins below 1024
  /// rows: 5632 x 2048, three runs, GFLOP/s with 16 MiB vs 512 KiB: at 64 rows 44-71 vs 68-126, at 256 64-114 vs
  /// 75-137, at 512 80-133 vs 112-141. With AVX-512, whose products reach oneDNN from 512 rows, the first: at 512
  /// rows of x on one thread of a Zen 5 host, BF16/Q4_0/Q4_K 175-192 vs 145-168.
  static func onednnLargeBlockMinRows(avx512: Bool) -> Int { avx512 ? 512 : 1024 }

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
