/// An owner of mapped file pages that can let a range's page-table entries go once the bytes have been copied
/// (`MappedFile`).
public protocol MappedPages: AnyObject {
  /// Drops this process's mappings of the whole pages inside `count` bytes at `bytes`; a later read maps them again.
  func release(_ bytes: UnsafeRawPointer, count: Int)
}

extension WeightMatrix {
  /// Whether the kernels read `dtype`'s rows as they lie (F32, F16, BF16), and so from a resident copy
  /// (`streamed()`); the quantized formats' kernels read their interleaved copies (`interleaved()`).
  public static func streamsRows(_ dtype: DType) -> Bool { dtype == .f32 || dtype == .f16 || dtype == .bf16 }

  /// A copy of the rows, compact, in the huge pages of `arena`.
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

  /// The matrix the kernels read: for F32, F16 and BF16 rows a resident copy in huge pages, made on the first call
  /// (or when a backend materialises a shard) and kept until `dropStreamed`, and the mapped file's pages of this view
  /// let go; itself for the other formats. Decode streams every weight at every step, and from the file's 4 KiB
  /// pages a TLB miss and a stop of the hardware prefetchers come every 4 KiB: TinyLlama-shaped BF16 at batch 1 on
  /// the Zen 5 host, 6 runs each, alternated, read 76-87% (mean 81%) of the read probe between its steps from the
  /// copy, 73-84% (77.5%) from the file (see `HugePageArena` for the quantized formats' copies). Made lazily, as the
  /// interleaved copies, so that a rank holding shards of two layouts keeps a copy of the one it computes with only.
  /// The copy is taken once: weights do not change after loading.
  public func streamed() -> WeightMatrix {
    guard Self.streamsRows(dtype), !isResident else { return self }
    return residentCopy.withLock { copy in
      if let copy { return copy }
      let made = resident()
      copy = made
      releaseMappedPages()
      return made
    }
  }

  /// Whether the resident copy exists.
  var hasStreamed: Bool { residentCopy.withLock { $0 != nil } }

  /// Frees the resident copy (a backend releasing a shard); the next `streamed()` makes it again.
  public func dropStreamed() {
    residentCopy.withLock { $0 = nil }
  }

  /// Whether the rows lie in a `HugePageArena` chunk (made by `resident`).
  var isResident: Bool { owner is HugePageArena.Chunk }

  /// Lets the mapped file's pages of this view go (through slices to the matrix they were cut from).
  private func releaseMappedPages() {
    var owner = self.owner
    while let parent = owner as? WeightMatrix { owner = parent.owner }
    guard let pages = owner as? MappedPages, rows > 0 else { return }
    pages.release(base, count: (rows - 1) * rowStride + rowBytes)
  }
}
