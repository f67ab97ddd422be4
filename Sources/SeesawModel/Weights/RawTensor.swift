import SeesawTensor

/// A tensor as it lies in a model file: its bytes, dtype and row-major shape (outermost first), not yet converted.
public struct RawTensor: @unchecked Sendable {
  public var name: String
  public var dtype: DType
  /// Row-major dimensions, outermost first (GGUF's ne[] reversed; safetensors' shape as is).
  public var shape: [Int]
  /// Start of the tensor's bytes inside `file`.
  public var bytes: UnsafeRawPointer
  public var file: MappedFile

  public var count: Int { shape.reduce(1, *) }
  /// Elements per row (the innermost dimension).
  public var rowLength: Int { shape.last ?? 1 }
  public var numRows: Int { rowLength == 0 ? 0 : count / rowLength }
  /// Bytes of one row; rows are whole numbers of blocks for quantized types.
  public var rowBytes: Int { rowLength / dtype.blockSize * dtype.bytesPerBlock }

  /// The matrix in its stored form (no conversion): a view of the mapped file, or, with `rowOrder`, a compact
  /// copy of the source rows it lists, in that order.
  public func toMatrix(rowOrder: [Int]? = nil) -> WeightMatrix {
    let cols = rowLength
    if let rowOrder {
      return WeightMatrix(dtype: dtype, rows: rowOrder.count, cols: cols, bytes: bytes, rowOrder: rowOrder)
    }
    return WeightMatrix(dtype: dtype, rows: numRows, cols: cols, bytes: bytes, owner: file)
  }

  /// Converts the tensor to f32. F32 data is viewed in place (no copy); everything else is dequantized into a new
  /// tensor. `rowOrder`, when given, picks source rows in that order (used to undo GGUF's Q/K permutation).
  public func toFloat(rowOrder: [Int]? = nil) -> Tensor {
    if dtype == .f32 && rowOrder == nil {
      let p = UnsafeMutableRawPointer(mutating: bytes).assumingMemoryBound(to: Float.self)
      return Tensor(viewing: p, shape: shape, owner: file)
    }
    let out = Tensor(zeros: shape)
    let n = rowLength
    let rowBytes = self.rowBytes
    let dtype = self.dtype
    let src = bytes
    let numRows = self.numRows
    ParallelFor.chunks(numRows) { rows in
      for r in rows {
        let from = rowOrder?[r] ?? r
        Dequantize.row(dtype, from: src + from * rowBytes, into: out.data + r * n, count: n)
      }
    }
    return out
  }
}
