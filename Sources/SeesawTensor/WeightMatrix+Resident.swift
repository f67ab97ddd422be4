extension WeightMatrix {
  /// A copy of the rows, compact, in the huge pages of `arena`: what the kernels that read F32, F16 and BF16 rows as
  /// they lie stream at every decode step, instead of the file's 4 KiB pages (the quantized formats' kernels read
  /// their interleaved copies, in the same arena). TinyLlama-shaped BF16 at batch 1 on the Zen 5 host, 6 runs each,
  /// alternated: 76-87% (mean 81%) of the read probe between the steps with the copy, 73-84% (77.5%) without.
  public func resident(in arena: HugePageArena = .weights) -> WeightMatrix {
    let memory = arena.allocate(byteCount: rows * rowBytes)
    let (to, from, rowBytes, rowStride) = (memory.pointer, base, rowBytes, rowStride)
    ParallelFor.chunks(rows) { range in
      if rowStride == rowBytes {
        (to + range.lowerBound * rowBytes).copyMemory(
          from: from + range.lowerBound * rowBytes, byteCount: range.count * rowBytes)
      } else {
        for r in range { (to + r * rowBytes).copyMemory(from: from + r * rowStride, byteCount: rowBytes) }
      }
    }
    return WeightMatrix(dtype: dtype, rows: rows, cols: cols, bytes: UnsafeRawPointer(to), owner: memory.chunk)
  }

  /// Whether the rows lie in a `HugePageArena` chunk (made by `resident`).
  var isResident: Bool { owner is HugePageArena.Chunk }
}
