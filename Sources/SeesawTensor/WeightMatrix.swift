/// A weight matrix [rows, cols] kept in the form its file stores it (F32, F16, BF16 or a ggml block format) and
/// computed with as it is: kernels dequantize a few rows at a time into cache-resident f32, so decode reads 2-7x
/// fewer bytes than with weights expanded to f32 at load, and the numbers are the same.
public final class WeightMatrix: @unchecked Sendable {
  public let dtype: DType
  public let rows: Int
  public let cols: Int
  /// Row r starts at base + r * rowBytes.
  let base: UnsafeRawPointer
  public let rowBytes: Int
  /// Keeps `base` alive: a memory-mapped file, an owned buffer, or a Tensor.
  private let owner: AnyObject?
  private let ownsBase: Bool

  /// A view of rows stored at `bytes` (kept alive by `owner`).
  public init(dtype: DType, rows: Int, cols: Int, bytes: UnsafeRawPointer, owner: AnyObject) {
    precondition(cols % dtype.blockSize == 0, "\(cols) columns are not whole \(dtype) blocks")
    self.dtype = dtype
    self.rows = rows
    self.cols = cols
    base = bytes
    rowBytes = cols / dtype.blockSize * dtype.bytesPerBlock
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
    self.init(dtype: .f32, rows: tensor.rows, cols: tensor.rowLength, bytes: UnsafeRawPointer(tensor.data), owner: tensor)
  }

  deinit {
    if ownsBase { UnsafeMutableRawPointer(mutating: base).deallocate() }
  }

  /// Bytes a full pass over the matrix reads.
  public var byteCount: Int { rows * rowBytes }

  /// The f32 data when the matrix is stored as f32.
  var floats: UnsafePointer<Float>? { dtype == .f32 ? base.assumingMemoryBound(to: Float.self) : nil }

  /// Writes rows r0..<r0+count as f32 into `out` [count, cols].
  @inline(__always) public func dequantize(rows r0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
      Dequantize.row(dtype, from: base + (r0 + i) * rowBytes, into: out + i * cols, count: cols)
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
        dtype, from: base + (r0 + i) * rowBytes + offset, into: out + i * columns.count, count: columns.count)
    }
  }
}
