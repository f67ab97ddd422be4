import Foundation
import SeesawTensor
import Testing

@testable import SeesawModel

@Suite("GGUF reader")
struct GGUFFileTests {
  @Test("every supported tensor type dequantizes exactly as gguf-py does")
  func dequantizesLikeReference() throws {
    let gguf = try GGUFFile(path: Fixtures.path("quant-types.gguf"))
    let golden = try Fixtures.json("quant-types.json")["tensors"] as! [String: [String: Any]]
    #expect(Set(golden.values.map { $0["type"] as! String }) == Set(DType.allCases.map(\.description)))
    for (name, entry) in golden {
      let raw = try #require(gguf.tensors[name])
      #expect(raw.dtype.description == entry["type"] as! String)
      #expect(raw.shape == (entry["shape"] as! [Int]))
      let values = raw.toFloat().toArray()
      let expected = (entry["values"] as! [Any]).floats
      #expect(values == expected, "\(name) differs from gguf-py's dequantization")
    }
  }

  @Test("metadata of the real model describes SmolLM2-135M")
  func realModelMetadata() throws {
    let gguf = try GGUFFile(path: Fixtures.smolLM2)
    #expect(gguf.version == 3)
    #expect(gguf.metadata["general.architecture"] == .string("llama"))
    #expect(gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count == 49152)
    let config = try ModelConfig(gguf: gguf)
    #expect(config.numLayers == 30 && config.hiddenSize == 576 && config.numHeads == 9 && config.numKVHeads == 3)
    #expect(config.tieWordEmbeddings && config.ropeTheta == 100000)
    #expect(gguf.tensors["token_embd.weight"]?.dtype == .q8_0 && gguf.tensors["blk.0.attn_q.weight"]?.dtype == .q4_1)
  }

  @Test("the Q/K un-permutation maps interleaved pairs back to rotate-half halves")
  func unpermutation() {
    // One head of 8: GGUF rows x0 y0 x1 y1 x2 y2 x3 y3 -> HF rows x0 x1 x2 x3 y0 y1 y2 y3.
    #expect(WeightSource.unpermutedRows(numHeads: 1, headDim: 8) == [0, 2, 4, 6, 1, 3, 5, 7])
    #expect(WeightSource.unpermutedRows(numHeads: 2, headDim: 4) == [0, 2, 1, 3, 4, 6, 5, 7])
  }
}
