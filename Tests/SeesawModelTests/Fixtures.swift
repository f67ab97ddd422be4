import Foundation
import SeesawTensor

@testable import SeesawModel

/// Paths and JSON of the committed fixtures (Tests/Fixtures, written by tools/make_goldens.py) and of the
/// default model that set-up caches.
enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  static func json(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: directory.appendingPathComponent(name))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  /// The SmolLM2-135M GGUF fetched by `make setup` (scripts/setup.sh).
  static let smolLM2 = directory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path

  /// A scratch directory removed by the caller.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

extension Array where Element == Any {
  var ints: [Int32] { map { Int32(($0 as! NSNumber).intValue) } }
  var floats: [Float] { map { ($0 as! NSNumber).floatValue } }
}

/// All-position logits of `tokens` as one prefill, [copies * tokens.count, vocab]: `copies` sequences of the same
/// tokens in one batch (more rows of x per product than one sequence gives).
func allLogits(_ model: LlamaModel, _ tokens: [Int32], copies: Int = 1) -> Tensor {
  let blocks = (tokens.count + model.blockSize - 1) / model.blockSize
  let cache = PagedKVCache(config: model.config, numBlocks: copies * blocks, blockSize: model.blockSize)
  let chunks = (0..<copies).map { c in
    ForwardBatch.Chunk(
      tokens: tokens, startPosition: 0, blockTable: (0..<Int32(blocks)).map { Int32(c * blocks) + $0 })
  }
  return model.forward(ForwardBatch(chunks: chunks, blockSize: model.blockSize, allLogits: true), cache: cache)
}

/// Greedy continuation through `GreedyGenerator` with a cache just large enough.
func greedy(_ model: LlamaModel, prompts: [[Int32]], maxTokens: Int, prefillChunk: Int = .max) -> [[Int32]] {
  let blocksPerSeq = ((prompts.map(\.count).max() ?? 0) + maxTokens + model.blockSize - 1) / model.blockSize
  let cache = PagedKVCache(config: model.config, numBlocks: blocksPerSeq * prompts.count, blockSize: model.blockSize)
  return GreedyGenerator(model: model, cache: cache).generate(
    prompts: prompts, maxTokens: maxTokens, prefillChunk: prefillChunk)
}
