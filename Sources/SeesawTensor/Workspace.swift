/// Reusable scratch buffers for the activations of a forward pass.
///
/// Each role ("q", "gate", ...) keeps one buffer that grows to the largest batch seen and is reused afterwards, so
/// steady-state steps neither allocate nor page-fault (fresh multi-megabyte allocations cost the kernel a page clear
/// each step). Tensors handed out are views whose contents are undefined until written, valid until the same role
/// is requested again with a larger size. Not thread-safe: one forward pass at a time per workspace. Buffers are
/// 64-byte aligned, so the kernels' 64-byte loads of a row do not straddle cache lines.
public final class Workspace: @unchecked Sendable {
  private var buffers: [String: (pointer: UnsafeMutablePointer<Float>, capacity: Int)] = [:]

  public init() {}

  deinit {
    for buffer in buffers.values { buffer.pointer.deallocate() }
  }

  /// A [shape] view of the buffer of `role`, grown if needed.
  public func tensor(_ role: String, _ shape: [Int]) -> Tensor {
    let count = max(1, shape.reduce(1, *))
    if let buffer = buffers[role], buffer.capacity >= count {
      return Tensor(viewing: buffer.pointer, shape: shape, owner: self)
    }
    buffers[role]?.pointer.deallocate()
    let capacity = max(count, (buffers[role]?.capacity ?? 0) * 2)
    let pointer = Matmul.aligned(Float.self, capacity)
    buffers[role] = (pointer, capacity)
    return Tensor(viewing: pointer, shape: shape, owner: self)
  }
}
