import CSeesawKernels

extension Matmul {
  /// How a product with weights in their stored form is computed; `linear` picks by M (see `path(m:dtype:)`).
  public enum Path: String, Sendable, CaseIterable {
    /// Few rows (decode): each weight row is dequantized in registers and dotted with every row of x.
    case gemv
    /// Some rows: four weight rows at a time dequantized into L1 and multiplied by 4 x 4 tiles.
    case tiled
    /// Many rows (prefill): weights packed into transposed panels and an 8 x 32 register tile (GotoBLAS layout).
    case packed
    /// Many rows: x packed once into [K, 32] token panels, eight weight rows (dequantized, not transposed)
    /// broadcast against 32 tokens at a time.
    case rows
    /// Many rows: as `rows`, with K blocks innermost and their sums collected in an untransposed scratch tile, so
    /// that each panel slice stays in L1 and y is written once (see `weightRowsScratch`).
    case rowsScratch
  }

  /// The path `linear` takes for `m` rows of x, from `seesaw bench matmul` on one thread: gemv wins up to 8
  /// rows, `.rows` from 16 (at 32-64 rows it beats `.packed` by 15-50%, whose per-panel transpose is then paid
  /// for few rows; at 512 rows they are within noise), `.rowsScratch` from 128 (interleaved A/B runs of the two
  /// loop nests: 3-10% ahead at 128-2048 rows alone, about 15% with both cores busy; 15-20% behind at 64).
  public static func path(m: Int, dtype: DType) -> Path {
    guard seesaw_gemm_available() != 0 else { return .tiled }
    if m <= 8 && gemvCode(dtype) != nil { return .gemv }
    return m >= 128 ? .rowsScratch : m >= 16 ? .rows : .tiled
  }

  /// y [M, N] = x [M, K] · wᵀ (+ bias) for weights in any stored form, without expanding them in memory.
  /// `kernel: .blas` sends f32 weights to OpenBLAS; `path` overrides the choice by M (benchmarks, tests).
  public static func linear(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int,
    bias: UnsafePointer<Float>? = nil, kernel: Kernel = .simd, path forced: Path? = nil
  ) {
    let (n, k) = (w.rows, w.cols)
    if m == 0 || n == 0 { return }
    if let floats = w.floats, kernel == .blas {
      linear(x, floats, y, m: m, n: n, k: k, bias: bias, kernel: .blas)
      return
    }
    switch forced ?? path(m: m, dtype: w.dtype) {
    case .gemv:
      guard let code = gemvCode(w.dtype) else { preconditionFailure("the gemv path does not read \(w.dtype)") }
      ParallelFor.dynamic(n, granularity: 16) { range in
        seesaw_gemv(
          code, w.base + range.lowerBound * w.rowStride, w.rowStride, range.count, x, k, m, y + range.lowerBound, n)
      }
    case .packed:
      ParallelFor.chunks(n, granularity: Int(SEESAW_PANEL)) { range in
        packedRows(x, w, y, m: m, rows: range)
      }
    case .rows:
      weightRows(x, w, y, m: m)
    case .rowsScratch:
      weightRowsScratch(x, w, y, m: m)
    case .tiled:
      ParallelFor.dynamic(n, granularity: 16) { range in
        if let floats = w.floats {
          smallM(x, floats, y, m: m, n: n, k: k, rows: range)
          return
        }
        let buffer = aligned(Float.self, 4 * k)  // [4, K]
        defer { buffer.deallocate() }
        compactRows(x, w, y, m: m, rows: range, buffer: buffer)
      }
    }
    if let bias { addBias(y, bias, m: m, n: n) }
  }

  /// Scratch for kernels, 64-byte aligned (stores that straddle cache lines halve dequantization speed).
  static func aligned<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
      .bindMemory(to: T.self, capacity: max(count, 1))
  }

  /// The dtype code of `seesaw_gemv`, nil for formats it does not read (K-quants).
  static func gemvCode(_ dtype: DType) -> Int32? {
    switch dtype {
    case .f32: 0
    case .f16: 1
    case .bf16: 2
    case .q8_0: 3
    case .q4_0: 4
    case .q4_1: 5
    default: nil
    }
  }

  /// The tiled kernel over output features `rows`, four weight rows dequantized at a time into `buffer` [4, K].
  static func compactRows(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows: Range<Int>,
    buffer: UnsafeMutablePointer<Float>
  ) {
    tiled(x, y, m: m, n: w.rows, k: w.cols, rows: rows) { j, count in
      w.dequantize(rows: j, count: count, into: buffer)
      return UnsafePointer(buffer)
    }
  }

  /// The `.rows` product: x packed once into token panels [K, 32]; then, per K block of `rowsKBlock` columns and
  /// per block of panels that fits in L2, each core dequantizes eight weight rows at a time and runs them against
  /// every panel of the block (a dequantized weight serves ≥ 256 tokens; later K blocks add to y).
  static func weightRows(_ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int) {
    let (n, k) = (w.rows, w.cols)
    let panel = Int(SEESAW_PANEL)
    let groups = (m + panel - 1) / panel
    let xp = packTokenPanels(x, m: m, k: k)  // [groups, K, 32]
    defer { xp.deallocate() }
    let kc = min(k, rowsKBlock)
    let groupsPerBlock = max(1, (1 << 20) / (4 * kc * panel))  // x panels of ≤ 1 MiB stay in L2
    ParallelFor.dynamic(n, granularity: 8) { range in
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
  }

  /// The `.rowsScratch` product for many rows of x (prefill): x packed into token panels [K, 32] as for `.rows`. Per
  /// block of `scratchGroups` panels and per `scratchRowBlock` weight rows, the K blocks of 256 columns go innermost:
  /// each is dequantized once into [256 rows, 256 columns] (256 KiB, in L2) and run against every panel of the block,
  /// whose slice [256, 32] (32 KiB) each 8-row tile reads from L1 while only its 8 KiB of weights come from L2. The
  /// sums of the K blocks collect in a scratch tile [rows, 32] per panel (512 KiB for the block, in L2), and y is
  /// written once, at the last K block. The cores share the work as (panels, rows) pieces (`scratchPieces`).
  static func weightRowsScratch(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int
  ) {
    let (n, k) = (w.rows, w.cols)
    let panel = Int(SEESAW_PANEL)
    let groups = (m + panel - 1) / panel
    let xp = packTokenPanels(x, m: m, k: k)  // [groups, K, 32]
    defer { xp.deallocate() }
    let (kc, rb, gb) = (min(k, scratchKBlock), scratchRowBlock, scratchGroups)
    let pieces = scratchPieces(groups: groups, rows: n, threads: ParallelFor.numThreads)
    ParallelFor.dynamic(pieces.count, perThread: pieces.count) { range in
      let buffer = aligned(Float.self, rb * kc)  // [rb, kc]
      let scratch = aligned(Float.self, gb * rb * panel)  // [gb, rb, 32]
      defer {
        buffer.deallocate()
        scratch.deallocate()
      }
      for piece in range {
        let (panels, rows) = pieces.piece(piece)
        // Row blocks of equal size (multiples of 8, ≤ rb): 288 rows go as 144 + 144, not 256 + 32 (x read again
        // for 32 rows).
        let rowBlocks = (rows.count + rb - 1) / rb
        let blockRows = ((rows.count + rowBlocks - 1) / rowBlocks + 7) / 8 * 8  // ≤ rb, a multiple of 8
        for g0 in stride(from: panels.lowerBound, to: panels.upperBound, by: gb) {
          for j in stride(from: rows.lowerBound, to: rows.upperBound, by: blockRows) {
            let nr = min(blockRows, rows.upperBound - j)
            for k0 in stride(from: 0, to: k, by: kc) {
              let kLen = min(kc, k - k0)
              w.dequantize(rows: j, count: nr, columns: k0..<(k0 + kLen), into: buffer)
              let phase = Int32((k0 > 0 ? 1 : 0) | (k0 + kLen == k ? 2 : 0))
              for g in g0..<min(panels.upperBound, g0 + gb) {
                seesaw_gemm_rows_scratch(
                  buffer, kLen, nr, xp + (g * k + k0) * panel, kLen, min(panel, m - g * panel),
                  scratch + (g - g0) * rb * panel, phase, y + g * panel * n + j, n)
              }
            }
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

  /// Columns of one packed K block: 256 (a multiple of every block size), so a panel [256, 32] (32 KiB) stays in L1.
  static let kBlock = 256

  /// One packed panel's product: weight rows j..<j+nLen, columns k0..<k0+kLen, as an f32 panel [kLen, 32], against
  /// x rows m0..<m0+mLen.
  struct PanelBlock {
    var panel: UnsafePointer<Float>
    var k0: Int, kLen: Int, m0: Int, mLen: Int, j: Int, nLen: Int
  }

  /// The loops of the packed GEMM over output features `rows`: for each K block and each block of x rows that
  /// fits in L2 (`xElementBytes` per x element), every 32-row weight panel is dequantized and transposed into
  /// [kc, 32], then handed to `multiply`.
  static func forEachPanel(
    _ w: WeightMatrix, m: Int, rows: Range<Int>, xElementBytes: Int, _ multiply: (PanelBlock) -> Void
  ) {
    let k = w.cols
    let panelRows = Int(SEESAW_PANEL)
    let kc = min(k, kBlock)
    let mb = max(8, (1 << 20) / (xElementBytes * kc) / 8 * 8)  // x block [mb, kc] ≤ 1 MiB
    let rowBuffer = Matmul.aligned(Float.self, panelRows * kc)  // [32, kc]
    let panel = Matmul.aligned(Float.self, panelRows * kc)  // [kc, 32]
    defer {
      rowBuffer.deallocate()
      panel.deallocate()
    }
    for k0 in stride(from: 0, to: k, by: kc) {
      let kLen = min(kc, k - k0)
      for m0 in stride(from: 0, to: m, by: mb) {
        for j in stride(from: rows.lowerBound, to: rows.upperBound, by: panelRows) {
          let nLen = min(panelRows, rows.upperBound - j)
          if let floats = w.floats {
            seesaw_pack_panel(floats + j * k + k0, k, nLen, kLen, panel)
          } else {
            w.dequantize(rows: j, count: nLen, columns: k0..<(k0 + kLen), into: rowBuffer)
            seesaw_pack_panel(rowBuffer, kLen, nLen, kLen, panel)
          }
          multiply(PanelBlock(panel: panel, k0: k0, kLen: kLen, m0: m0, mLen: min(mb, m - m0), j: j, nLen: nLen))
        }
      }
    }
  }

  /// The packed GEMM over output features `rows`, multiplied by 8 x 32 register tiles.
  static func packedRows(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows: Range<Int>
  ) {
    let (n, k) = (w.rows, w.cols)
    forEachPanel(w, m: m, rows: rows, xElementBytes: 4) { b in
      seesaw_gemm_panel(
        x + b.m0 * k + b.k0, k, b.panel, b.kLen, y + b.m0 * n + b.j, n, b.mLen, b.nLen, b.k0 > 0 ? 1 : 0)
    }
  }
}
