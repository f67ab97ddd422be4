/// Reusable scratch buffers for the activations of a forward pass.
///
/// Each role ("q", "gate", ...) keeps one buffer that grows to the largest batch seen and is reused afterwards, so
/// steady-state steps neither allocate nor page-fault (fresh multi-megabyte allocations cost the kernel a page clear
/// each step). Tensors handed out are views whose contents are undefined until written; a view keeps its buffer
/// alive, and a request for more than the buffer holds gives the role a new buffer (older views keep the old one).
/// A role asked for the same shape as last time gets the same view back: a decode step asks for a dozen views a
/// layer, and making each (a tensor and its shape array, two heap allocations) was a sixth of the allocations of
/// SmolLM2's batch-1 step. Not thread-safe: one forward pass at a time per workspace. Buffers are 64-byte aligned,
/// so the kernels' 64-byte loads of a row do not straddle cache lines.
public final class Workspace: @unchecked Sendable {
  /// One role's memory, freed when the workspace and every view of it let go.
  private final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int

    init(capacity: Int) {
      self.capacity = capacity
      pointer = Matmul.aligned(Float.self, capacity)
    }

    deinit { pointer.deallocate() }
  }

  /// Each role's buffer and the last view handed out.
  private var roles: [String: (buffer: Buffer, view: Tensor)] = [:]

  public init() {}

  /// A [shape] view of the buffer of `role`, grown if needed.
  public func tensor(_ role: String, _ shape: [Int]) -> Tensor {
    let last = roles[role]
    if let last, last.view.shape == shape { return last.view }
    let count = max(1, shape.reduce(1, *))
    let buffer =
      last.flatMap { $0.buffer.capacity >= count ? $0.buffer : nil }
      ?? Buffer(capacity: max(count, 2 * (last?.buffer.capacity ?? 0)))
    let view = Tensor(viewing: buffer.pointer, shape: shape, owner: buffer)
    roles[role] = (buffer, view)
    return view
  }

  /// A [rows, columns] view of the buffer of `role`: `tensor(role, [rows, columns])` without making the shape's
  /// array when the role's last view has that shape.
  public func tensor(_ role: String, rows: Int, columns: Int) -> Tensor {
    if let view = roles[role]?.view, view.shape.count == 2, view.shape[0] == rows, view.shape[1] == columns {
      return view
    }
    return tensor(role, [rows, columns])
  }
}
