import Foundation
import Testing

@testable import SeesawModel
@testable import SeesawTensor

@Suite("Weight source")
struct WeightSourceTests {
  @Test(
    "float matrices load as copies in huge pages, quantized ones as views of the file",
    arguments: ["tiny-llama-gqa-tied-bf16", "tiny-llama-gqa-tied", "tiny-llama-quant.gguf"])
  func residentCopies(fixture: String) throws {
    let model = try ModelFiles(path: Fixtures.path(fixture)).loadModel()
    #expect(!model.matrices.isEmpty)
    for w in model.matrices {
      #expect(w.isResident == !InterleavedWeights.reads(w.dtype), "\(fixture): a \(w.dtype) matrix")
    }
  }

  @Test("a tensor-parallel share of a bf16 matrix is copied compact, with the values of the file's rows")
  func residentShare() throws {
    let files = try ModelFiles(path: Fixtures.path("tiny-llama-gqa-tied-bf16"))
    let name = "model.layers.1.mlp.down_proj.weight"  // [64, 128]
    let share = try files.weights.loadMatrix(name, shape: [64, 128], rows: 16..<48, columns: 64..<128)
    #expect(share.isResident && share.rowStride == share.rowBytes && share.rows == 32 && share.cols == 64)
    let raw = try #require(files.weights.raw(name))
    let view = raw.toMatrix().slice(rows: 16..<48).slice(columns: 64..<128)
    var (a, b) = ([Float](repeating: 0, count: 32 * 64), [Float](repeating: 1, count: 32 * 64))
    a.withUnsafeMutableBufferPointer { view.dequantize(rows: 0, count: 32, into: $0.baseAddress!) }
    b.withUnsafeMutableBufferPointer { share.dequantize(rows: 0, count: 32, into: $0.baseAddress!) }
    #expect(a == b && a.contains { $0 != 0 })
  }
}
