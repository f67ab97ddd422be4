import CSeesawKernels

extension Matmul {
  /// How a product with weights in their stored form is computed; `linear` picks by M (see `path(m:dtype:)`).
  public enum Path: String, Sendable, CaseIterable {
    /// Few rows (decode): each weight row is dequantized in registers and dotted with every row of x.
    case gemv
    /// Few rows (decode) of Q8_0, Q4_0, Q4_1, Q4_K or Q6_K weights on VNNI: x as 31-bit integers per block (f32's
    /// accuracy), integer dot products against the matrix's 16-row interleaved copy (`digitProducts`). Float formats,
    /// or no VNNI: `.gemv`.
    case digits
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
    /// Many rows: blocks of weight rows dequantized to f32 and multiplied by oneDNN's sgemm (`onednnProducts`).
    case onednn
    /// Many rows of BF16 weights on AMX tiles: x as three exact bf16 parts, so f32's products (`amxProducts`).
    /// Other formats, or no AMX: the path they take without it.
    case amx
  }

  /// The path `linear` takes for `m` rows of x, from `seesaw bench matmul`: `.digits` below 16 rows (32 on AMD) where
  /// it applies (5632 x 2048 on two threads, GFLOP/s: at 1 row Q4_0 99 -> 174, Q4_1 96 -> 164, Q8_0 86 -> 108, Q4_K 77
  /// -> 183, Q6_K 60 -> 170, and Q4_K 104 -> 186 and Q6_K 65 -> 175 at 8 rows; at 2-7 rows ahead of gemv by 15-70%
  /// except at 4, where gemv's four-row kernel fits and they are within 3-16% either way; at 8 ahead of the tiled
  /// kernel by 15-35%, even with it at 12), gemv up to 7 rows (at 8 the tiled kernel's 4 x 4 tiles fit exactly and it
  /// leads on two threads: TinyLlama's 5632 x 2048 Q4_0 105-114 vs 84-91 GFLOP/s, BF16 79-122 vs 75-98; SmolLM2's 1536
  /// x 576 within noise), `.rows` from 16 (at 32-64 rows it beats `.packed` by 15-50%, whose per-panel transpose is
  /// then paid for few rows; at 512 rows they are within noise), `.rowsScratch` from 128 (32 on AMD:
  /// `rowsScratchMinRows`; interleaved A/B runs of the two loop nests: 3-10% ahead at 128-2048 rows alone, about 15%
  /// with both cores busy; 15-20% behind at 64), `.onednn` from 512 (2048 on AMD: `onednnMinRows`; on the Xeon,
  /// SmolLM2's Q4_1 1536 x 576 and 576 x 1536 on two threads, nine runs: ahead in 7 of 9 at 2048 rows, 187-267 ->
  /// 215-287 GFLOP/s, and in 6 of 9 at 512; even at 128-256, where dequantizing each block for few rows costs more).
  /// Q6_K leaves gemv at 4 rows, where building each weight from 6 bits again for every 4 rows of x costs more than the
  /// tiled kernel's dequantized buffer (5632 x 2048, three runs: 68-77 vs 79-98 GFLOP/s at 4 rows, 51-67 vs 76-96 at 7;
  /// Q4_K's gemv leads up to 4 rows, 64-68 vs 35-42 at 2, and is even at 7).
  ///
  /// With AMX, BF16 weights take `.amx` from `amxMinRows`. `k`, the length of x's rows, lets BF16 and F16 keep gemv
  /// up to 16 rows where x fits in L1 (`gemvMaxFloatsOfX`); unknown, the rule by M alone.
  public static func path(m: Int, k: Int = .max, dtype: DType) -> Path {
    if dtype == .bf16 && m >= amxMinRows && amxAvailable { return .amx }
    return pathWithoutAMX(m: m, k: k, dtype: dtype)
  }

  /// Fewest rows of x that take `.amx`: the kernel takes x 32 rows at a time, padding the rest (5632 x 2048 BF16 on
  /// two threads, three runs, GFLOP/s: at 8 rows amx 76-77 vs tiled 87-100, at 12 113-158 vs 118, at 16 153-192 vs
  /// rows 120-153 and tiled 141-170, at 32 245-360 vs 155-229).
  static let amxMinRows = 16

  /// Whether the CPU runs the kernels written for AVX-512 (`seesaw_gemm_available`).
  public static let hasAVX512 = seesaw_gemm_available() != 0

  /// Whether the CPU runs the AVX2 kernels (AVX2, FMA and F16C; AVX-512 CPUs have them too).
  public static let hasAVX2 = seesaw_gemv_available(0) != 0

  /// Whether the CPU has AVX-512 VNNI (`.digits`, and the fast form of `--precision int8`).
  public static let hasVNNI = seesaw_vnni_available() != 0

  /// Whether the CPU is AMD's, whose AVX-512 cores (Zen 4 and later) run vpdpbusd at the rate of their FMAs
  /// (`digitsMaxRows`; Intel's cores, Ice Lake to Sapphire Rapids, issue it on one port where FMAs have two) and the
  /// scratch-tile loop nest ahead of `.rows` from fewer rows of x (`rowsScratchMinRows`).
  static let amd = seesaw_cpu_is_amd() != 0

  /// Whether the CPU's vpdpbusd issues at the rate of its FMAs: AMD's VNNI cores.
  static let vnniAtFMARate = hasVNNI && amd

  /// Whether `path`'s kernels run on this CPU for `dtype`: gemv and `.rows` on AVX-512 or AVX2
  /// (`seesaw_gemv_available`), the packed and scratch-tile kernels on AVX-512 only (`seesaw_gemm_available`), and
  /// `.digits` with VNNI for the formats of the interleaved copies (`digitsApply`); `.tiled` (Swift SIMD) and
  /// `.onednn` (oneDNN picks its own kernels) run anywhere; `.amx` checks its own instructions. A path forced where
  /// it does not run gives way to the one `pathWithoutAMX` picks.
  public static func runsHere(_ path: Path, _ dtype: DType) -> Bool {
    switch path {
    case .tiled, .onednn, .amx: true
    case .gemv: seesaw_gemv_available(gemvCode(dtype)) != 0
    case .rows: hasAVX2
    case .digits: digitsApply(dtype)
    case .packed, .rowsScratch: hasAVX512
    }
  }

  /// The path on CPUs without AVX-512 (AVX2: AMD Zen 2 and 3, Intel client cores): gemv up to `avx2GemvMaxRows`,
  /// `.rows` (its 4 x 16 AVX2 tiles) up to 63, oneDNN's sgemm from 64. `bench matmul`, 5632 x 2048 on two threads of
  /// a Zen 3 host, GFLOP/s: at 16 rows gemv 52-65 vs tiled 46-54 for Q4_0/Q4_1/Q8_0/BF16/F16 and 33 vs 25 for Q4_K;
  /// at 32 rows 82-106 vs oneDNN 60-63 and tiled 55-59; at 64 oneDNN (blocks of an L2) 92-104 vs rows 75-89, at 512
  /// 126-135 vs 85-94. Without AVX2 (no FMA) only the tiled kernel and oneDNN run.
  static func pathWithoutAVX512(m: Int, dtype: DType) -> Path {
    if m <= avx2GemvMaxRows(dtype) && runsHere(.gemv, dtype) { return .gemv }
    if m >= avx2OnednnMinRows { return .onednn }
    return hasAVX2 ? .rows : .tiled
  }

  /// Most rows of x that take gemv on AVX2: 11 for the 4-bit formats and Q8_0, whose weights cost a few integer
  /// instructions to build for every 4 rows of x, where `.rows` builds each once per 256 tokens; 16 for the float
  /// formats and Q6_K. 5632 x 2048, two threads, three runs each, GFLOP/s gemv vs rows: Q4_0 at 9 rows 33-57 vs 38-50,
  /// at 12 60-64 vs 73-77, at 16 36-63 vs 63-95; Q4_K at 12 53-55 vs 56-58, at 16 52-70 vs 60-108; Q8_0 at 12 59-62
  /// vs 51-62 (even), at 16 34-59 vs 57-74; Q4_1 at 12 33-63 vs 50-70; BF16 at 16 34-66 vs 48-57, Q6_K 45-69 vs 47-58.
  static func avx2GemvMaxRows(_ dtype: DType) -> Int {
    switch dtype {
    case .q4_0, .q4_1, .q4_K, .q8_0: 11
    default: 16
    }
  }

  static let avx2OnednnMinRows = 64

  /// Most rows of x that take `.digits` (with VNNI): their four digits cost one vpdpbusd per 16 products, as many
  /// instructions as `.rows`' FMAs, but build no f32 weights, so they win where vpdpbusd issues as fast as FMAs and
  /// `.rows` fills only half its panels of 32 rows of x (16 to 31). 5632 x 2048 on one thread of a Zen 5 host,
  /// GFLOP/s digits vs rows (two runs): Q4_0 at 16 rows 161-166 vs 145-159, at 24 162-164 vs 141-144, at 32 160-164
  /// vs 188-192; Q4_K at 16 148-162 vs 126-152, at 24 154-161 vs 134-146; Q8_0 at 16 136 vs 107-109, at 24 138 vs
  /// 114, at 32 137-139 vs 143-154; Q6_K at 16 131-135 vs 132-144 (rows from 16). Where vpdpbusd has half the FMAs'
  /// rate (Intel), digits up to 15 rows.
  static func digitsMaxRows(_ dtype: DType, vnniAtFMARate: Bool = vnniAtFMARate) -> Int {
    vnniAtFMARate && dtype != .q6_K ? 31 : 15
  }

  /// The path for `m` rows of x (of `k` values) where `.amx` does not apply.
  static func pathWithoutAMX(m: Int, k: Int = .max, dtype: DType) -> Path {
    guard hasAVX512 else { return pathWithoutAVX512(m: m, dtype: dtype) }
    if m <= digitsMaxRows(dtype) && digitsApply(dtype) { return .digits }
    if m <= (dtype == .q6_K ? 3 : 7) { return .gemv }
    if amd && (dtype == .bf16 || dtype == .f16) && m <= 16 && k <= gemvMaxFloatsOfX / m { return .gemv }
    return m >= onednnMinRows() ? .onednn : m >= rowsScratchMinRows() ? .rowsScratch : m >= 16 ? .rows : .tiled
  }

  /// Most values of x (m · k) with which BF16 and F16 weights keep gemv from 8 to 16 rows on AMD: 48 KiB of f32, one
  /// L1 data cache of Zen 4 and 5. gemv streams each weight row once past all the rows of x; the tiled kernel reads
  /// the weights in more streams at once, which memory serves more slowly. `bench matmul`, BF16 weights from memory
  /// on the two threads of a Zen 5 host, GFLOP/s gemv vs tiled (rows at 16): 98304 x 576 at 8 rows 214 vs 155, 12
  /// 246 vs 179, 16 282 vs 204 (rows 208); 65536 x 1024 at 12 rows 220 vs 184, but at 16 (64 KiB) 121 vs 217;
  /// 32768 x 2048 at 8 rows (64 KiB) 108 vs 152. F16 alike (576 columns, 16 rows: 224 vs 176); F32 weights not.
  static let gemvMaxFloatsOfX = 12 * 1024

  /// Fewest rows of x that take `.onednn` (with AVX-512): 512 on Intel, 2048 on AMD, whose cores run the scratch-tile
  /// loop nest faster than oneDNN's JIT sgemm plus the dequantization up to 1024 rows and as fast at 2048. `bench
  /// matmul` on the two threads of a Zen 5 host, GFLOP/s rowsScratch vs onednn: 5632 x 2048 Q4_0 at 512 rows 422 vs
  /// 339, at 1024 458 vs 406, at 2048 426 vs 433; Q8_0 434 vs 398, 441 vs 391, 436 vs 429; SmolLM2's 1536 x 576 Q4_1
  /// 483 vs 442, 465 vs 411, 404 vs 377, BF16 409 vs 414, 407 vs 391, 428 vs 430.
  static func onednnMinRows(amd: Bool = amd) -> Int { amd ? 2048 : 512 }

  /// Fewest rows of x that take `.rowsScratch` (with AVX-512) rather than `.rows`: 128 on Intel (on the Xeon, 3-10%
  /// ahead at 128-2048 rows, 15-20% behind at 64), 32 on AMD. TinyLlama decode on the two threads of a Zen 5 host,
  /// tok/s with `.rows` vs `.rowsScratch` (two runs each): Q4_K_M at 32 sequences 141-150 vs 157-165, at 64 165-166
  /// vs 176-184; Q8_0 at 64 154-159 vs 162-167; BF16 at 32 125 vs 132-135, at 64 147-152 vs 156-161; Q4_0 even.
  static func rowsScratchMinRows(amd: Bool = amd) -> Int { amd ? 32 : 128 }

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
    var chosen = forced ?? path(m: m, k: k, dtype: w.dtype)
    if (chosen == .amx && !amxExact([w])) || !runsHere(chosen, w.dtype) {
      chosen = pathWithoutAMX(m: m, k: k, dtype: w.dtype)
    }
    switch chosen {
    case .amx:
      amxProducts(x, [w], [y], m: m, parts: 3)
    case .digits:
      digitProducts(x, [w], [y], m: m)
    case .gemv, .tiled:
      rowProducts(x, [w], [y], m: m, path: chosen)
    case .packed:
      ParallelFor.chunks(n, granularity: Int(SEESAW_PANEL)) { range in
        packedRows(x, w, y, m: m, rows: range)
      }
    case .rows, .rowsScratch:
      tokenPanelProducts(x, [w], [y], m: m, path: chosen)
    case .onednn:
      onednnProducts(x, [w], [y], m: m)
    }
    if let bias { addBias(y, bias, m: m, n: n) }
  }

  /// The path on which `products` runs several matrices that share x (q/k/v, gate/up) in one pass at `m` rows of x:
  /// the path each would take alone when they all take the same one (not `.packed`) and have the same K; nil
  /// otherwise (one matrix, different K, or matrices whose formats choose different paths).
  static func sharedPath(m: Int, _ ws: [WeightMatrix]) -> Path? {
    guard ws.count > 1, let k = ws.first?.cols, ws.allSatisfy({ $0.cols == k && $0.rows > 0 }), m > 0 else {
      return nil
    }
    let shared = path(m: m, k: k, dtype: ws[0].dtype)
    guard ws.dropFirst().allSatisfy({ path(m: m, k: k, dtype: $0.dtype) == shared }), shared != .packed,
      shared != .amx || amxExact(ws)
    else {
      return nil
    }
    return shared
  }

  /// Whether `.amx` computes f32's products with `ws`: BF16 weights (exact in bf16) that AMX takes.
  static func amxExact(_ ws: [WeightMatrix]) -> Bool {
    ws.allSatisfy { $0.dtype == .bf16 } && amxApplies(ws)
  }

  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ for matrices that share x, on `path` (from `sharedPath`) as one pass: the
  /// work of all the matrices split over the cores together, so a layer's q/k/v (or gate/up) projection pays one
  /// wake-up, one wait and one last-chunk tail instead of one per matrix, with the same sums as one product at a time.
  static func products(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int, path: Path
  ) {
    switch path {
    case .digits: digitProducts(x, ws, ys, m: m)
    case .gemv, .tiled: rowProducts(x, ws, ys, m: m, path: path)
    case .rows, .rowsScratch: tokenPanelProducts(x, ws, ys, m: m, path: path)
    case .onednn: onednnProducts(x, ws, ys, m: m)
    case .amx: amxProducts(x, ws, ys, m: m, parts: 3)
    case .packed: preconditionFailure("the packed path runs one matrix at a time")
    }
  }

  /// The gemv or tiled products of matrices that share x, their weight rows stacked in order and split over the
  /// cores in chunks of 16 rows that threads claim in turn. Each matrix starts on a multiple of 16 (the rows between
  /// are skipped), so its rows meet the kernels in the same groups of four as in a product of its own: same bits.
  static func rowProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int, path: Path
  ) {
    ParallelFor.dynamic(stackHeight(ws, alignment: 16), granularity: 16) { range in
      forEachStacked(ws, alignment: 16, range) { i, rows in
        let (w, y) = (ws[i], ys[i])
        if path == .gemv {
          seesaw_gemv(
            gemvCode(w.dtype), w.base + rows.lowerBound * w.rowStride, w.rowStride, rows.count, x, w.cols, m,
            y + rows.lowerBound, w.rows)
        } else if let floats = w.floats {
          smallM(x, floats, y, m: m, n: w.rows, k: w.cols, rows: rows)
        } else {
          ScratchArena.with(Float.self, 4 * w.cols) { buffer in  // [4, K]
            compactRows(x, w, y, m: m, rows: rows, buffer: buffer)
          }
        }
      }
    }
  }

  /// The height of the stack of several matrices' rows, in order, each matrix starting on a multiple of `alignment`
  /// (the rows between are padding).
  static func stackHeight(_ ws: [WeightMatrix], alignment: Int) -> Int {
    ws.reduce(0) { $0 + ($1.rows + alignment - 1) / alignment * alignment }
  }

  /// Calls `body(i, rows)` with the rows of matrix i that fall in `range` of that stack (padding rows left out).
  @inline(__always) static func forEachStacked(
    _ ws: [WeightMatrix], alignment: Int, _ range: Range<Int>, _ body: (Int, Range<Int>) -> Void
  ) {
    var start = 0
    for (i, w) in ws.enumerated() where start < range.upperBound {
      let (lo, hi) = (max(range.lowerBound, start), min(range.upperBound, start + w.rows))
      if lo < hi { body(i, (lo - start)..<(hi - start)) }
      start += (w.rows + alignment - 1) / alignment * alignment
    }
  }

  /// Scratch for kernels, 64-byte aligned (stores that straddle cache lines halve dequantization speed).
  static func aligned<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
      .bindMemory(to: T.self, capacity: max(count, 1))
  }

  /// The dtype code of `seesaw_gemv`, which reads every format.
  static func gemvCode(_ dtype: DType) -> Int32 {
    switch dtype {
    case .f32: 0
    case .f16: 1
    case .bf16: 2
    case .q8_0: 3
    case .q4_0: 4
    case .q4_1: 5
    case .q4_K: 6
    case .q6_K: 7
    }
  }

  /// The dtype code of `seesaw_gemv_bf16`, nil for the formats it does not read (the K-quants).
  static func bf16GemvCode(_ dtype: DType) -> Int32? {
    let code = gemvCode(dtype)
    return code <= 5 ? code : nil
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
