extension WeightMatrix {
  /// A [rows, cols] matrix of `dtype` with deterministic pseudo-random contents (benchmarks and tests): random quants
  /// with f16 scales in [0.01, 0.05] for block formats, values in [-1, 1) for float formats.
  public static func random(_ dtype: DType, rows: Int, cols: Int, seed: UInt64) -> WeightMatrix {
    precondition(cols % dtype.blockSize == 0, "\(dtype) rows are blocks of \(dtype.blockSize), not \(cols) values")
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return state
    }
    func unit() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    let count = rows * cols
    let blocks = count / dtype.blockSize
    var bytes: [UInt8]
    switch dtype {
    case .f32:
      bytes = (0..<count).map { _ in unit() }.withUnsafeBytes { Array($0) }
    case .f16:
      bytes = (0..<count).map { _ in Float16(unit()).bitPattern }.withUnsafeBytes { Array($0) }
    case .bf16:
      bytes = (0..<count).map { _ in UInt16(unit().bitPattern >> 16) }.withUnsafeBytes { Array($0) }
    default:
      bytes = (0..<(blocks * dtype.bytesPerBlock)).map { _ in UInt8(truncatingIfNeeded: next() >> 32) }
      let halves: [Int] =
        switch dtype {
        case .q4_1, .q4_K: [0, 2]
        case .q6_K: [208]
        default: [0]
        }
      for b in 0..<blocks {
        for offset in halves {
          let scale = Float16(0.01 + 0.04 * abs(unit())).bitPattern
          bytes[b * dtype.bytesPerBlock + offset] = UInt8(scale & 0xff)
          bytes[b * dtype.bytesPerBlock + offset + 1] = UInt8(scale >> 8)
        }
      }
    }
    return bytes.withUnsafeBytes { raw in
      WeightMatrix(dtype: dtype, rows: rows, cols: cols, bytes: raw.baseAddress!, rowOrder: Array(0..<rows))
    }
  }
}
