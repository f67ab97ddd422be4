import Synchronization

/// A weight matrix [rows, cols] kept in the form its file stores it (F32, F16, BF16 or a ggml block format) and
/// computed with as it is: kernels dequantize a few rows at a time into cache-resident f32, so decode reads 2-7x
/// fewer bytes than with weights expanded to f32 at load, and the numbers are the same.
public final class WeightMatrix: @unchecked Sendable {
  public let dtype: DType
  public let rows: Int
  public let cols: Int
  /// Row r starts at base + r * rowStride.
  let base: UnsafeRawPointer
  /// Bytes of one row's data.
  public let rowBytes: Int
  /// Bytes from one row's start to the next: rowBytes, or more for a column slice of a wider matrix.
  public let rowStride: Int
  /// Keeps `base` alive: a memory-mapped file, an owned buffer, or a Tensor.
  let owner: AnyObject?
  let ownsBase: Bool
  /// The copy the int8 kernels read, once made (`interleaved()`).
  private let interleavedCopy = Mutex<InterleavedWeights?>(nil)
  /// The resident copy that the kernels read, once made (`streamed()`).
  let residentCopy = Mutex<WeightMatrix?>(nil)

  /// A view of rows stored at `bytes` (kept alive by `owner`).
  public init(dtype: DType, rows: Int, cols: Int, bytes: UnsafeRawPointer, owner: AnyObject) {
    precondition(cols % dtype.blockSize == 0, "\(cols) columns are not whole \(dtype) blocks")
    self.dtype = dtype
    self.rows = rows
    self.cols = cols
    base = bytes
    rowBytes = cols / dtype.blockSize * dtype.bytesPerBlock
    rowStride = rowBytes
    self.owner = owner
    ownsBase = false
  }

  /// A view of `rows` rows of `cols` columns, `rowStride` bytes apart, at `bytes` (kept alive by `owner`).
  init(dtype: DType, rows: Int, cols: Int, bytes: UnsafeRawPointer, rowStride: Int, owner: AnyObject) {
    self.dtype = dtype
    self.rows = rows
    self.cols = cols
    base = bytes
    rowBytes = cols / dtype.blockSize * dtype.bytesPerBlock
    self.rowStride = rowStride
    self.owner = owner
    ownsBase = false
  }

  /// A copy of the rows of `bytes` taken in `rowOrder` (used to undo GGUF's Q/K permutation without dequantizing).
  public init(dtype: DType, rows: Int, cols: Int, bytes: UnsafeRawPointer, rowOrder: [Int]) {
    precondition(rowOrder.count == rows, "row order of \(rowOrder.count) for \(rows) rows")
    self.dtype = dtype
    self.rows = rows
    self.cols = cols
    rowBytes = cols / dtype.blockSize * dtype.bytesPerBlock
    rowStride = rowBytes
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowBytes, 1), alignment: 64)
    for (r, from) in rowOrder.enumerated() {
      (buffer + r * rowBytes).copyMemory(from: bytes + from * rowBytes, byteCount: rowBytes)
    }
    base = UnsafeRawPointer(buffer)
    owner = nil
    ownsBase = true
  }

  /// An f32 matrix over a tensor's storage.
  public convenience init(_ tensor: Tensor) {
    self.init(
      dtype: .f32, rows: tensor.rows, cols: tensor.rowLength, bytes: UnsafeRawPointer(tensor.data), owner: tensor)
  }

  deinit {
    if ownsBase { UnsafeMutableRawPointer(mutating: base).deallocate() }
  }

  /// The copy of a matrix in the int8 kernels' layout (`InterleavedWeights.reads` its dtype), made on the first call.
  public func interleaved() -> InterleavedWeights {
    interleavedCopy.withLock { copy in
      if let copy { return copy }
      let made = InterleavedWeights(self)
      copy = made
      return made
    }
  }

  /// Whether the int8 kernels' copy exists.
  var hasInterleaved: Bool { interleavedCopy.withLock { $0 != nil } }

  /// Frees the int8 kernels' copy (a backend releasing a shard); the next `interleaved()` makes it again.
  public func dropInterleaved() {
    interleavedCopy.withLock { $0 = nil }
  }

  /// Bytes a full pass over the matrix reads.
  public var byteCount: Int { rows * rowBytes }

  /// The f32 data when the matrix is stored as contiguous f32 rows.
  var floats: UnsafePointer<Float>? {
    dtype == .f32 && rowStride == rowBytes ? base.assumingMemoryBound(to: Float.self) : nil
  }

  /// Rows `range` as a view (no copy): a tensor-parallel rank's share of a column-parallel layer.
  public func slice(rows range: Range<Int>) -> WeightMatrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of \(rows)")
    return WeightMatrix(
      dtype: dtype, rows: range.count, cols: cols, bytes: base + range.lowerBound * rowStride, rowStride: rowStride,
      owner: self)
  }

  /// Whether `range` can be a column slice: it starts on a block boundary and ends on one (or at the last column).
  public func canSlice(columns range: Range<Int>) -> Bool {
    range.lowerBound >= 0 && range.upperBound <= cols && range.lowerBound % dtype.blockSize == 0
      && (range.upperBound % dtype.blockSize == 0 || range.upperBound == cols)
  }

  /// Columns `range` of every row as a strided view (no copy): a rank's share of a row-parallel layer.
  public func slice(columns range: Range<Int>) -> WeightMatrix {
    precondition(canSlice(columns: range), "columns \(range) of \(cols) are not whole \(dtype) blocks")
    let offset = range.lowerBound / dtype.blockSize * dtype.bytesPerBlock
    return WeightMatrix(
      dtype: dtype, rows: rows, cols: range.count, bytes: base + offset, rowStride: rowStride, owner: self)
  }

  /// Writes rows r0..<r0+count as f32 into `out` [count, cols].
  @inline(__always) public func dequantize(rows r0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
      Dequantize.row(dtype, from: base + (r0 + i) * rowStride, into: out + i * cols, count: cols)
    }
  }

  /// Writes columns `columns` of rows r0..<r0+count as f32 into `out` [count, columns.count]; the range starts on
  /// a block boundary and covers whole blocks (or ends at the last column).
  @inline(__always) public func dequantize(
    rows r0: Int, count: Int, columns: Range<Int>, into out: UnsafeMutablePointer<Float>
  ) {
    let offset = columns.lowerBound / dtype.blockSize * dtype.bytesPerBlock
    for i in 0..<count {
      Dequantize.row(
        dtype, from: base + (r0 + i) * rowStride + offset, into: out + i * columns.count, count: columns.count)
    }
  }
}
