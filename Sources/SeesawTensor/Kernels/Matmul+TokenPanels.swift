import CSeesawKernels

/// The products for 16 rows of x or more (`.rows`, `.rowsScratch`): x packed into token panels [K, 32], weight rows
/// dequantized in blocks and broadcast against them.
extension Matmul {
  /// The `.rows` product (x packed once into token panels [K, 32]) for weight rows `rows`: per K block of `rowsKBlock`
  /// columns and per block of panels that fits in L2, eight weight rows are dequantized at a time and run against
  /// every panel of the block (a dequantized weight serves ≥ 256 tokens; later K blocks add to y).
  static func weightRows(
    _ xp: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows range: Range<Int>
  ) {
    let (n, k) = (w.rows, w.cols)
    let panel = Int(SEESAW_PANEL)
    let groups = (m + panel - 1) / panel
    let kc = min(k, rowsKBlock)
    let groupsPerBlock = max(1, (1 << 20) / (4 * kc * panel))  // x panels of ≤ 1 MiB stay in L2
    let buffer = aligned(Float.self, 8 * kc)  // [8, kc]
    defer { buffer.deallocate() }
    for k0 in stride(from: 0, to: k, by: kc) {
      let kLen = min(kc, k - k0)
      for g0 in stride(from: 0, to: groups, by: groupsPerBlock) {
        for j in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
          let nr = min(8, range.upperBound - j)
          let rows: UnsafePointer<Float>
          let ldw: Int
          if let floats = w.floats {
            (rows, ldw) = (floats + j * k + k0, k)
          } else {
            w.dequantize(rows: j, count: nr, columns: k0..<(k0 + kLen), into: buffer)
            (rows, ldw) = (UnsafePointer(buffer), kLen)
          }
          for g in g0..<min(groups, g0 + groupsPerBlock) {
            seesaw_gemm_rows(
              rows, ldw, nr, xp + (g * k + k0) * panel, kLen, min(panel, m - g * panel), y + g * panel * n + j, n,
              k0 > 0 ? 1 : 0)
          }
        }
      }
    }
  }

  /// The `.rows` or `.rowsScratch` products of one matrix, or of several that share x (q/k/v, gate/up): x packed
  /// once, and the work of all the matrices split over the cores in one pass (one wake-up and one wait instead of one
  /// per matrix; the small k/v projections share a pass with q instead of each being cut in pieces for all the cores).
  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ; every ws[i] has K columns.
  static func tokenPanelProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int, path: Path
  ) {
    precondition(path == .rows || path == .rowsScratch, "token-panel products take the .rows paths, not \(path)")
    let xp = packTokenPanels(x, m: m, k: ws[0].cols)  // [groups, K, 32]
    defer { xp.deallocate() }
    if path == .rows {
      ParallelFor.dynamic(stackHeight(ws, alignment: 1), granularity: 8) { range in
        forEachStacked(ws, alignment: 1, range) { i, rows in weightRows(xp, ws[i], ys[i], m: m, rows: rows) }
      }
      return
    }
    let groups = (m + Int(SEESAW_PANEL) - 1) / Int(SEESAW_PANEL)
    let pieces = ws.map { scratchPieces(groups: groups, rows: $0.rows, threads: ParallelFor.numThreads) }
    let work = pieces.enumerated().flatMap { i, p in (0..<p.count).map { (i, $0) } }  // (matrix, piece)
    ParallelFor.dynamic(work.count, perThread: work.count) { range in
      let scratch = ScratchBuffers(k: ws[0].cols)
      defer { scratch.deallocate() }
      for (i, piece) in work[range] {
        let (panels, rows) = pieces[i].piece(piece)
        weightRowsScratch(xp, ws[i], ys[i], m: m, panels: panels, rows: rows, scratch: scratch)
      }
    }
  }

  /// A core's buffers for `weightRowsScratch`: dequantized weights [rb, kc] and the panels' sums [gb, rb, 32].
  struct ScratchBuffers {
    let weights: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Float>

    init(k: Int) {
      weights = aligned(Float.self, scratchRowBlock * min(k, scratchKBlock))
      sums = aligned(Float.self, scratchGroups * scratchRowBlock * Int(SEESAW_PANEL))
    }

    func deallocate() {
      weights.deallocate()
      sums.deallocate()
    }
  }

  /// The `.rowsScratch` product for many rows of x (prefill): x packed into token panels [K, 32] as for `.rows`. Per
  /// block of `scratchGroups` panels and per `scratchRowBlock` weight rows, the K blocks of 256 columns go innermost:
  /// each is dequantized once into [256 rows, 256 columns] (256 KiB, in L2) and run against every panel of the block,
  /// whose slice [256, 32] (32 KiB) each 8-row tile reads from L1 while only its 8 KiB of weights come from L2. The
  /// sums of the K blocks collect in a scratch tile [rows, 32] per panel (512 KiB for the block, in L2), and y is
  /// written once, at the last K block. This is one piece of it: weight rows `rows` against panels `panels` (see
  /// `scratchPieces`).
  static func weightRowsScratch(
    _ xp: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, panels: Range<Int>,
    rows: Range<Int>, scratch: ScratchBuffers
  ) {
    let (n, k) = (w.rows, w.cols)
    let panel = Int(SEESAW_PANEL)
    let (kc, rb, gb) = (min(k, scratchKBlock), scratchRowBlock, scratchGroups)
    // Row blocks of equal size: 288 rows go as 144 + 144, not 256 + 32 (x read again for 32 rows).
    let rowBlocks = (rows.count + rb - 1) / rb
    let blockRows = ((rows.count + rowBlocks - 1) / rowBlocks + 7) / 8 * 8  // ≤ rb, a multiple of 8
    for g0 in stride(from: panels.lowerBound, to: panels.upperBound, by: gb) {
      for j in stride(from: rows.lowerBound, to: rows.upperBound, by: blockRows) {
        let nr = min(blockRows, rows.upperBound - j)
        for k0 in stride(from: 0, to: k, by: kc) {
          let kLen = min(kc, k - k0)
          w.dequantize(rows: j, count: nr, columns: k0..<(k0 + kLen), into: scratch.weights)
          let phase = Int32((k0 > 0 ? 1 : 0) | (k0 + kLen == k ? 2 : 0))
          for g in g0..<min(panels.upperBound, g0 + gb) {
            seesaw_gemm_rows_scratch(
              scratch.weights, kLen, nr, xp + (g * k + k0) * panel, kLen, min(panel, m - g * panel),
              scratch.sums + (g - g0) * rb * panel, phase, y + g * panel * n + j, n)
          }
        }
      }
    }
  }

  /// How `weightRowsScratch` splits a product of `groups` token panels and `rows` weight rows over the cores: a grid
  /// of panel chunks (blocks of `scratchGroups` panels) by row chunks (multiples of 8 rows).
  ///
  /// Every row chunk reads all of x, and every panel chunk dequantizes all of w. Splitting by rows alone, into 4
  /// chunks per thread, gave small matrices chunks of 24 rows (SmolLM2's k/v projections, 192 rows): 12 FLOPs per
  /// byte of x, which then streamed from L3 at 2048 tokens and held the product to ~220 GFLOP/s on two threads where
  /// larger ones reach 320-365. Row chunks here keep at least `scratchMinRows` rows; panels are split first, and
  /// finer than a block only when there are too few pieces for the cores.
  struct ScratchPieces {
    var groups: Int, rows: Int, panelChunks: Int, rowChunks: Int
    var count: Int { panelChunks * rowChunks }

    /// Piece i: its panels and its weight rows.
    func piece(_ i: Int) -> (panels: Range<Int>, rows: Range<Int>) {
      let (p, r) = (i / rowChunks, i % rowChunks)
      let units = (rows + 7) / 8
      let rowRange = min(rows, units * r / rowChunks * 8)..<min(rows, units * (r + 1) / rowChunks * 8)
      return (groups * p / panelChunks..<groups * (p + 1) / panelChunks, rowRange)
    }
  }

  static func scratchPieces(groups: Int, rows: Int, threads: Int) -> ScratchPieces {
    let target = 4 * threads
    var panelChunks = (groups + scratchGroups - 1) / scratchGroups
    let rowChunks = max(1, min((target + panelChunks - 1) / panelChunks, rows / scratchMinRows))
    if panelChunks * rowChunks < 2 * threads { panelChunks = min(groups, (target + rowChunks - 1) / rowChunks) }
    return ScratchPieces(groups: groups, rows: rows, panelChunks: panelChunks, rowChunks: rowChunks)
  }

  /// Fewest weight rows of a `weightRowsScratch` piece (unless the matrix has fewer): 128 rows make 64 FLOPs per
  /// byte of x, which L3 feeds at full speed.
  static let scratchMinRows = 128

  /// Columns per K block of `weightRowsScratch`: 256 (a multiple of every block size), so a panel slice [256, 32]
  /// (32 KiB) stays in L1.
  static let scratchKBlock = 256

  /// Weight rows dequantized at a time by `weightRowsScratch`: [256, 256] f32, 256 KiB.
  static let scratchRowBlock = 256

  /// Panels of x per block of `weightRowsScratch`: 16 (512 tokens), so the block's scratch tiles take 512 KiB.
  static let scratchGroups = 16

  /// x [M, K] packed into ⌈M / 32⌉ token panels [K, 32] (the last one zero-padded), for the `.rows` products;
  /// the caller deallocates them.
  static func packTokenPanels(_ x: UnsafePointer<Float>, m: Int, k: Int) -> UnsafeMutablePointer<Float> {
    let panel = Int(SEESAW_PANEL)
    let groups = (m + panel - 1) / panel
    let xp = aligned(Float.self, groups * k * panel)  // [groups, K, 32]
    ParallelFor.chunks(groups) { range in
      for g in range { seesaw_pack_panel(x + g * panel * k, k, min(panel, m - g * panel), k, xp + g * k * panel) }
    }
    return xp
  }

  /// Columns per K block of the `.rows` product: 1024 (a multiple of every block size), so eight panels of x
  /// [1024, 32] fill 1 MiB of L2 and each dequantized weight is used for 256 tokens.
  static let rowsKBlock = 1024

  /// Tokens the `.rows` product computes at a time: x goes in 32-token panels, the last one 16 or 32 tokens wide,
  /// so a product of M ≥ 16 rows costs as much as one of M rounded up to a multiple of this.
  public static let rowsTokenGranularity = Int(SEESAW_PANEL) / 2
}
