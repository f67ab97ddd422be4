import CSeesawKernels

/// The `.amx` products (many rows of x on AMX tiles, Sapphire Rapids and later). x goes to bf16 tiles once per
/// product: three exact parts (hi + mid + lo = x, `seesaw_amx_tiles_bf16`) on the f32 path, whose products with
/// bf16 weights are then f32's products, summed in f32; one rounded part under `--precision bf16`. Weights are packed
/// into bf16 panels [kc/2, 32, 2] (BF16 weights straight from their rows, other formats through f32), and 32 rows
/// of x by 32 outputs accumulate in four 16 x 16 f32 tiles (`seesaw_gemm_panel_amx`).
extension Matmul {
  /// Whether this CPU has AMX and the kernel lets the process use it.
  public static var amxAvailable: Bool { seesaw_amx_available() != 0 }

  /// Whether `.amx` takes products with `ws` (sharing x): the CPU has AMX and K is a multiple of 32.
  static func amxApplies(_ ws: [WeightMatrix]) -> Bool {
    amxAvailable && !ws.isEmpty && ws.allSatisfy { $0.cols % 32 == 0 && $0.cols == ws[0].cols }
  }

  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ as one pass with x in `parts` bf16 parts (3: exact, for the f32 path;
  /// 1: rounded, for `--precision bf16`). The matrices' rows, stacked in panels of 32, are split into about four
  /// ranges per core that threads claim in turn: this machine's two vCPUs share one tile unit, with the host's
  /// neighbours too (alone, a vCPU runs TDPBF16PS at 0.65-2.7 TFLOP/s from one second to the next; together, at
  /// times one at full speed and the other at half), so equal shares finish far apart.
  static func amxProducts(
    _ x: UnsafePointer<Float>, _ ws: [WeightMatrix], _ ys: [UnsafeMutablePointer<Float>], m: Int, parts: Int
  ) {
    precondition(parts == 1 || parts == 3, "x goes to AMX as one rounded or three exact bf16 parts")
    let k = ws[0].cols
    let mPad = (m + 31) / 32 * 32  // the kernel takes rows 32 at a time
    let partStride = mPad * k
    let xs = aligned(UInt16.self, parts * partStride)  // [parts][mPad/16, K/32, 16, 32] bf16 tiles
    defer { xs.deallocate() }
    let tiles = (0..<parts).map { Optional(xs + $0 * partStride) }
    ParallelFor.dynamic(mPad, granularity: 16) { rows in
      tiles.withUnsafeBufferPointer {
        seesaw_amx_tiles_bf16(x, k, m, rows.lowerBound, rows.count, Int32(parts), $0.baseAddress)
      }
    }
    let panel = Int(SEESAW_PANEL)
    ParallelFor.dynamic(stackHeight(ws, alignment: panel), granularity: panel, perThread: 4) { range in
      forEachStacked(ws, alignment: panel, range) { i, rows in
        amxRows(xs, parts: parts, partStride: partStride, ws[i], ys[i], m: m, rows: rows)
      }
    }
  }

  /// Columns of one AMX K block: the panel [kc/2, 32, 2] bf16 (16 KiB at 256) stays in L1 while x's rows pass.
  static let amxKBlock = 256

  /// The loops of an `.amx` product over output features `rows`: for each K block and each block of x rows that
  /// fits in L2 (all parts together), every 32-row weight panel is packed to bf16 and multiplied by all the block's
  /// rows of x.
  static func amxRows(
    _ xs: UnsafePointer<UInt16>, parts: Int, partStride: Int, _ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>,
    m: Int, rows: Range<Int>
  ) {
    let (n, k) = (w.rows, w.cols)
    let panelRows = Int(SEESAW_PANEL)
    let kc = min(k, amxKBlock)
    let mb = max(32, xBlockBytes / (2 * parts * kc) / 32 * 32)  // x block [mb, kc] per part
    let panel = aligned(UInt16.self, panelRows * kc)  // [kc/2, 32, 2]
    let direct = w.dtype == .bf16
    let rowBuffer = direct ? nil : aligned(Float.self, panelRows * kc)  // [32, kc]
    let floatPanel = direct ? nil : aligned(Float.self, panelRows * kc)  // [kc, 32]
    defer {
      panel.deallocate()
      rowBuffer?.deallocate()
      floatPanel?.deallocate()
    }
    var pointers = [UnsafePointer<UInt16>?](repeating: nil, count: parts)
    for k0 in stride(from: 0, to: k, by: kc) {
      let kLen = min(kc, k - k0)
      for m0 in stride(from: 0, to: m, by: mb) {
        for p in 0..<parts { pointers[p] = xs + p * partStride + m0 * k + 16 * k0 }
        for j in stride(from: rows.lowerBound, to: rows.upperBound, by: panelRows) {
          let nLen = min(panelRows, rows.upperBound - j)
          if let rowBuffer, let floatPanel {
            w.dequantize(rows: j, count: nLen, columns: k0..<(k0 + kLen), into: rowBuffer)
            seesaw_pack_panel(rowBuffer, kLen, nLen, kLen, floatPanel)
            seesaw_pack_panel_bf16(floatPanel, kLen, panel)
          } else {
            seesaw_pack_panel_bf16_rows(w.base + j * w.rowStride + 2 * k0, w.rowStride, nLen, kLen, panel)
          }
          pointers.withUnsafeBufferPointer { parts in
            seesaw_gemm_panel_amx(
              parts.baseAddress, Int32(parts.count), k, panel, kLen, y + m0 * n + j, n, min(mb, m - m0), nLen,
              k0 > 0 ? 1 : 0)
          }
        }
      }
    }
  }
}
