import CSeesawKernels

/// A Q8_0, Q4_0, Q4_1, Q4_K or Q6_K weight matrix copied into the layout of the int8 kernels (`--precision int8`):
/// groups of 16 rows whose quants are interleaved 4 bytes at a time, so that one VNNI instruction advances 16 rows
/// (see `seesaw_repack_x16`). As many bytes as the matrix (Q4_K: 3% more, its sub-blocks become Q4_1-like blocks
/// with the file's d and dmin per super-block and 6-bit scales as bytes; Q6_K: as many, its 6-bit quants as planes
/// of 4 and 2 bits and its scales per super-block, where a byte per quant and the scales per block took 37% more);
/// made once, on first use or when a backend materialises a shard (`WeightMatrix.interleaved()`), in the huge pages of
/// `HugePageArena.weights`. The int8 kernels and the f32 path's digits read it.
public final class InterleavedWeights: @unchecked Sendable {
  /// The dtype code of the C kernels that read the copy (`Matmul.gemvCode`: 3 q8_0, 4 q4_0, 5 q4_1, 6 q4_K, 7 q6_K).
  let code: Int32
  let rows: Int
  let cols: Int
  /// [groups, cols / 32, quantBytes]
  let quants: UnsafeMutablePointer<UInt8>
  /// [groups, cols / 32, scaleHalves] f16, right after the quants
  let scales: UnsafeMutablePointer<UInt16>
  /// The arena's chunk that holds quants and scales.
  private let storage: HugePageArena.Chunk

  /// Groups of 16 rows (the last one padded with zero rows).
  var groups: Int { (rows + 15) / 16 }

  /// Bytes of the copy, quants and scales.
  var byteCount: Int {
    groups * (cols / 32) * (seesaw_x16_quant_bytes(code) + 2 * seesaw_x16_scale_halves(code))
  }

  /// Whether the int8 kernels read `dtype`.
  public static func reads(_ dtype: DType) -> Bool { [.q8_0, .q4_0, .q4_1, .q4_K, .q6_K].contains(dtype) }

  init(_ w: WeightMatrix) {
    precondition(Self.reads(w.dtype), "the int8 kernels do not read \(w.dtype)")
    code = Matmul.gemvCode(w.dtype)
    (rows, cols) = (w.rows, w.cols)
    let blocks = cols / 32
    let groups = (rows + 15) / 16
    let quantBytes = (groups * blocks * seesaw_x16_quant_bytes(code) + 63) & ~63
    let memory = HugePageArena.weights.allocate(
      byteCount: quantBytes + groups * blocks * seesaw_x16_scale_halves(code) * MemoryLayout<UInt16>.stride)
    storage = memory.chunk
    quants = memory.pointer.bindMemory(to: UInt8.self, capacity: quantBytes)
    scales = (memory.pointer + quantBytes).bindMemory(
      to: UInt16.self, capacity: groups * blocks * seesaw_x16_scale_halves(code))
    let (base, stride, rows, cols) = (w.base, w.rowStride, rows, cols)
    let (quants, scales) = (quants, scales)
    ParallelFor.chunks(groups) { range in
      seesaw_repack_x16(code, base, stride, rows, cols, range.lowerBound, range.count, quants, scales)
    }
  }
}
