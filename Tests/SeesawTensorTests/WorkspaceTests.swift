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

@Suite("Workspace views")
struct WorkspaceViewTests {
  @Test("a role asked for the same shape again gets the same view, with no new tensor or buffer")
  func sameShapeSameView() {
    let workspace = Workspace()
    let first = workspace.tensor("q", rows: 4, columns: 576)
    #expect(workspace.tensor("q", rows: 4, columns: 576) === first)
    #expect(workspace.tensor("q", [4, 576]) === first)
    let other = workspace.tensor("k", rows: 4, columns: 576)
    #expect(other !== first && other.data != first.data, "roles have buffers of their own")
    let smaller = workspace.tensor("q", rows: 1, columns: 576)
    #expect(smaller !== first && smaller.shape == [1, 576] && smaller.data == first.data, "a smaller view, same buffer")
  }

  @Test("a view outlives its role's growth: the old buffer stays until the view lets go")
  func oldViewsKeepTheirBuffer() {
    let workspace = Workspace()
    let small = workspace.tensor("gate", rows: 1, columns: 8)
    for i in 0..<8 { small.data[i] = Float(i) }
    let large = workspace.tensor("gate", rows: 1024, columns: 1536)
    #expect(large.data != small.data, "grown into a new buffer")
    for i in 0..<(1024 * 1536) { large.data[i] = -1 }
    #expect((0..<8).map { small.data[$0] } == (0..<8).map(Float.init), "the old view still reads its values")
  }
}
