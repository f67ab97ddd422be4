import Testing

@testable import SeesawTensor

@Suite("Workspace")
struct WorkspaceTests {
  @Test("activation buffers start on a cache line, as they grow too, so that no 64-byte row load straddles two")
  func cacheLineAligned() {
    let workspace = Workspace()
    for count in [1, 7, 576, 3 * 576 + 5, 1 << 20] {
      let t = workspace.tensor("x", [count])
      #expect(Int(bitPattern: t.data) % 64 == 0, "workspace buffer of \(count)")
    }
    for shape in [[1], [3, 5], [64, 576]] {
      #expect(Int(bitPattern: Tensor(zeros: shape).data) % 64 == 0, "zeros \(shape)")
      #expect(Int(bitPattern: Tensor(uninitialized: shape).data) % 64 == 0, "uninitialized \(shape)")
    }
  }
}
