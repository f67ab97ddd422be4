/// A dense, row-major f32 tensor in host memory.
///
/// It either owns its storage (allocated zeroed, freed on deinit) or views memory that another object keeps alive
/// (a memory-mapped weight file), which makes f32 weights zero-copy. Activations and dequantized weights use it.
public final class Tensor: @unchecked Sendable {
  /// Dimensions, outermost first.
  public let shape: [Int]
  /// First element; `count` floats are readable (and writable when owned).
  public let data: UnsafeMutablePointer<Float>
  /// Keeps viewed memory alive; nil when this tensor owns `data`.
  private let owner: AnyObject?

  /// A zero-filled tensor that owns its storage.
  public init(zeros shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    self.shape = shape
    let count = shape.reduce(1, *)
    data = Matmul.aligned(Float.self, count)
    data.initialize(repeating: 0, count: max(count, 1))
    owner = nil
  }

  /// A tensor whose contents are undefined until written. Large ones are not touched, so the operating system
  /// backs their pages only when they are first written (a KV cache sized for the worst case costs nothing up front).
  public init(uninitialized shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    self.shape = shape
    data = Matmul.aligned(Float.self, shape.reduce(1, *))
    owner = nil
  }

  /// A tensor that owns a copy of `values`.
  public convenience init(_ values: [Float], shape: [Int]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
    self.init(zeros: shape)
    values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
  }

  /// A view of `count(shape)` floats at `pointer`, valid while `owner` lives. Writing through it is the caller's
  /// responsibility (mapped weights are read-only).
  public init(viewing pointer: UnsafeMutablePointer<Float>, shape: [Int], owner: AnyObject) {
    self.shape = shape
    data = pointer
    self.owner = owner
  }

  deinit {
    if owner == nil { data.deallocate() }
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }
  /// Size of the outermost dimension.
  public var rows: Int { shape.first ?? 1 }
  /// Elements per outermost row.
  public var rowLength: Int { shape.count <= 1 ? count : shape.dropFirst().reduce(1, *) }

  /// Pointer to the first element of outer row `i`.
  @inline(__always) public func row(_ i: Int) -> UnsafeMutablePointer<Float> { data + i * rowLength }

  /// The elements as an array (copies).
  public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
}
