import Foundation
import Testing

@testable import SeesawModel
@testable import SeesawTensor

@Suite("Weight source")
struct WeightSourceTests {
  @Test(
    "float matrices get copies in huge pages when the backend materialises them, until it releases them",
    arguments: ["tiny-llama-gqa-tied-bf16", "tiny-llama-gqa-tied", "tiny-llama-quant.gguf"])
  func streamedCopies(fixture: String) throws {
    let model = try ModelFiles(path: Fixtures.path(fixture)).loadModel()
    #expect(!model.matrices.isEmpty)
    #expect(model.matrices.allSatisfy { !$0.isResident && !$0.hasStreamed })  // views of the file after loading
    model.backend.materialize(model.matrices)
    for w in model.matrices {
      #expect(w.hasStreamed == WeightMatrix.streamsRows(w.dtype), "\(fixture): a \(w.dtype) matrix")
      #expect(w.streamed().isResident == WeightMatrix.streamsRows(w.dtype))
    }
    model.backend.release(model.matrices)
    #expect(model.matrices.allSatisfy { !$0.hasStreamed })
  }

  @Test("a tensor-parallel share of a bf16 matrix is copied compact, with the values of the file's rows")
  func streamedShare() throws {
    let files = try ModelFiles(path: Fixtures.path("tiny-llama-gqa-tied-bf16"))
    let name = "model.layers.1.mlp.down_proj.weight"  // [64, 128]
    let share = try files.weights.loadMatrix(name, shape: [64, 128], rows: 16..<48, columns: 64..<128)
    let copy = share.streamed()
    #expect(copy.isResident && copy.rowStride == copy.rowBytes && copy.rows == 32 && copy.cols == 64)
    #expect(share.streamed() === copy)
    var (a, b) = ([Float](repeating: 0, count: 32 * 64), [Float](repeating: 1, count: 32 * 64))
    // The view reads the file again after its pages were let go.
    a.withUnsafeMutableBufferPointer { share.dequantize(rows: 0, count: 32, into: $0.baseAddress!) }
    b.withUnsafeMutableBufferPointer { copy.dequantize(rows: 0, count: 32, into: $0.baseAddress!) }
    #expect(a == b && a.contains { $0 != 0 })
  }
}
