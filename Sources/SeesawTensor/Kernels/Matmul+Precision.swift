import CSeesawKernels

/// The arithmetic of the linear layers. `.f32` is exact f32 products of f32 activations with the stored weights
/// (the default: goldens hold). The others trade accuracy for speed, as llama.cpp does; their drift is measured
/// with `seesaw perplexity --precision` against transformers' f32.
public enum ComputePrecision: String, Sendable, CaseIterable {
  case f32
  /// Activations and weights rounded to bf16, pairwise products summed in f32 (AVX-512 BF16 `vdpbf16ps`).
  case bf16
  /// Activations quantized to int8 per block of 32 (ggml's Q8_0), integer dot products per block (VNNI
  /// `vpdpbusd`, or AVX2's `vpmaddubsw` with the same results) for Q8_0/Q4_0/Q4_1/Q4_K/Q6_K weights, prefill and
  /// decode alike; other weight formats keep the f32 path. Those weights are read from an interleaved copy
  /// (`InterleavedWeights`), which takes as much memory again as they do (Q4_K 3% more).
  case int8

  /// Whether this CPU has the instructions; `.f32` is always available.
  public var isAvailable: Bool {
    switch self {
    case .f32: true
    case .bf16: seesaw_bf16_available() != 0
    case .int8: seesaw_int8_available() != 0
    }
  }
}

extension Matmul {
  /// y [M, N] = x [M, K] · wᵀ (+ bias) with reduced-precision arithmetic; falls back to the f32 kernels where the
  /// precision does not apply (see `ComputePrecision`).
  public static func linear(
    _ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int,
    bias: UnsafePointer<Float>? = nil, precision: ComputePrecision
  ) {
    let (n, k) = (w.rows, w.cols)
    if m == 0 || n == 0 { return }
    switch precision {
    case .int8 where int8Applies([w]):
      int8(x, [w], [y], m: m)
    case .bf16 where precision.isAvailable && k % 2 == 0 && (m >= 16 || bf16GemvCode(w.dtype) != nil):
      bf16(x, w, y, m: m)
    default:
      linear(x, w, y, m: m, bias: bias)
      return
    }
    if let bias { addBias(y, bias, m: m, n: n) }
  }

  /// Whether `.int8` computes products with `ws` (all sharing one x): VNNI, and formats the int8 kernels read. Any
  /// number of rows: the kernel takes x sixteen rows at a time, each thread's weight rows staying in L2 between
  /// them, and stays ahead of the f32 GEMMs at every M (`seesaw bench matmul --reduced`, 5632 x 2048 on two threads:
  /// Q4_0 860-970 GOP/s at 16 rows, 1010-1130 at 512; Q8_0 900-1080 at 512; the f32 paths 180-300 GFLOP/s).
  static func int8Applies(_ ws: [WeightMatrix]) -> Bool {
    ComputePrecision.int8.isAvailable && !ws.isEmpty
      && ws.allSatisfy { InterleavedWeights.reads($0.dtype) && $0.cols == ws[0].cols }
  }

  /// Q8_0 activations against the matrices' interleaved copies: x quantized once, then the groups of 16 weight rows
  /// of all the matrices (ys[i] [M, N_i] from ws[i]) split over the cores as one pass.
  static func int8(_ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int) {
    let k = ws[0].cols
    let blocks = k / 32
    let copies = ws.map { $0.interleaved() }
    // xq, aux: panels of 16 rows, [K/32][≤ 16][32] and [K/32][≤ 16] each
    ScratchArena.with(Int8.self, m * k, seesaw_q8_aux.self, m * blocks) { xq, aux in
      ParallelFor.dynamic(m, granularity: Int(SEESAW_INT8_PANEL)) { rows in
        seesaw_quantize_panels_q8(x, m, k, rows.lowerBound, rows.count, xq, aux)
      }
      // Unit u of the pass is group g = u % groups of the pass (group g - starts[i] of matrix i) against row block
      // u / groups of x. Threads claim runs of units, about 4 per thread per row block: a vCPU that is descheduled or
      // shared leaves the others a short tail to wait for, not an eighth of the product.
      let starts = copies.reduce(into: [0]) { $0.append($0.last! + $1.groups) }
      let groups = starts.last!
      let rowBlocks = (m + int8RowBlock - 1) / int8RowBlock
      ParallelFor.dynamic(rowBlocks * groups, perThread: 4 * rowBlocks) { range in
        var unit = range.lowerBound
        while unit < range.upperBound {
          let block = unit / groups
          let end = min(range.upperBound, (block + 1) * groups)
          let row0 = block * int8RowBlock
          let rows = min(int8RowBlock, m - row0)
          for (i, copy) in copies.enumerated() {
            let lo = max(unit - block * groups, starts[i])
            let hi = min(end - block * groups, starts[i + 1])
            guard lo < hi else { continue }
            seesaw_gemv_int8_x16(
              copy.code, copy.quants, copy.scales, copy.rows, lo - starts[i], hi - lo, xq + row0 * k,
              aux + row0 * blocks, k, rows, ys[i] + row0 * copy.rows, copy.rows)
          }
          unit = end
        }
      }
    }
  }

  /// Rows of x per row block of the int8 pass (a multiple of the kernel's 16-row panels).
  static let int8RowBlock = 32 * Int(SEESAW_INT8_PANEL)

  /// bf16 activations: a few rows dot each weight block rounded to bf16; many rows use packed bf16 panels, on AMX
  /// tiles where the CPU has them.
  static func bf16(_ x: UnsafePointer<Float>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int) {
    let (n, k) = (w.rows, w.cols)
    if m >= amxMinRows && amxApplies([w]) {
      amxProducts(x, [w], [y], m: m, parts: 1)
      return
    }
    let xb = Matmul.aligned(UInt16.self, m * k)  // [M, K] bf16
    defer { xb.deallocate() }
    ParallelFor.chunks(m * k, granularity: 1024) { range in
      seesaw_round_rows_bf16(x + range.lowerBound, range.count, xb + range.lowerBound)
    }
    if m < 16, let code = bf16GemvCode(w.dtype) {
      ParallelFor.dynamic(n, granularity: 16) { range in
        seesaw_gemv_bf16(
          code, w.base + range.lowerBound * w.rowStride, w.rowStride, range.count, xb, k, m, y + range.lowerBound, n)
      }
      return
    }
    ParallelFor.chunks(n, granularity: Int(SEESAW_PANEL)) { range in
      packedRowsBF16(xb, w, y, m: m, rows: range)
    }
  }

  /// The packed GEMM of `packedRows` with bf16 panels [kc/2, 32, 2] and bf16 rows of x.
  static func packedRowsBF16(
    _ x: UnsafePointer<UInt16>, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, m: Int, rows: Range<Int>
  ) {
    let (n, k) = (w.rows, w.cols)
    let panelBF16 = Matmul.aligned(UInt16.self, Int(SEESAW_PANEL) * (min(k, kBlock) + 1))  // [kc/2, 32, 2]
    defer { panelBF16.deallocate() }
    forEachPanel(w, m: m, rows: rows, xElementBytes: 2) { b in
      seesaw_pack_panel_bf16(b.panel, b.kLen, panelBF16)
      seesaw_gemm_panel_bf16(
        x + b.m0 * k + b.k0, k, panelBF16, b.kLen, y + b.m0 * n + b.j, n, b.mLen, b.nLen, b.k0 > 0 ? 1 : 0)
    }
  }
}
