import Foundation
import SeesawParallel
import SeesawTensor
import Testing

@testable import SeesawModel

/// All-position logits [tokens.count, vocab] of one prefill through `layout`'s ranks (threads of this process):
/// every rank loads its shard, the pipeline runs one micro-batch, and the last stage's vocabulary slices are put
/// side by side.
func shardedLogits(_ files: ModelFiles, layout: ParallelConfig, tokens: [Int32]) throws -> [Float] {
  let world = LocalCommunicator.world(size: layout.replicaSize, timeout: 120)
  let numBlocks = (tokens.count + 15) / 16
  let batch = ForwardBatch(
    chunks: [.init(tokens: tokens, startPosition: 0, blockTable: (0..<Int32(numBlocks)).map { $0 })],
    blockSize: 16, allLogits: true)
  let slices = LocalCommunicator.onThreads(world) { comm -> (Range<Int>, Tensor)? in
    let c = layout.coordinates(of: comm.rank)
    let tpGroup = try comm.split(color: c.stage, key: c.tpRank)
    let model = try files.loadShard(tp: layout.tp, pp: layout.pp, stage: c.stage, tpGroup: tpGroup)
    let runner = StageRunner(model: model, cache: model.makeCache(numBlocks: numBlocks), world: comm, layout: layout)
    return try runner.run(batch, microBatch: 0).map { (model.shard.vocab, $0) }
  }
  let vocab = files.config.vocabSize
  var logits = [Float](repeating: .nan, count: tokens.count * vocab)
  for case let (range, slice)? in try slices.map({ try $0.get() }) {
    for t in 0..<tokens.count {
      for (j, v) in range.enumerated() { logits[t * vocab + v] = slice.data[t * range.count + j] }
    }
  }
  return logits
}

/// Largest |a - b| over the largest |b|.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
  zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
}

@Suite("Sharded models match one rank")
struct ShardedModelTests {
  static let tinyCases: [(String, String)] = [
    ("tiny-llama-gqa-tied", "tp2"), ("tiny-llama-gqa-tied", "tp4"), ("tiny-llama-gqa-tied", "pp2"),
    ("tiny-llama-gqa-tied", "tp2pp2"), ("tiny-llama-untied", "tp3"), ("tiny-llama-untied", "pp3"),
    ("tiny-llama-untied", "tp4"), ("tiny-qwen2-bias", "tp2pp2"), ("tiny-mistral", "tp4"),
    ("tiny-llama-gqa-tied.gguf", "tp2pp2"), ("tiny-llama-gqa-tied-bf16", "tp4"),
  ]

  @Test("tiny models: logits of every layout are within 1e-4 of one rank's", arguments: tinyCases)
  func tinyLogits(model name: String, layout text: String) throws {
    let files = try ModelFiles(path: Fixtures.path(name))
    let tokens: [Int32] = (0..<37).map { Int32(($0 * 37 + 11) % files.config.vocabSize) }
    let expected = allLogits(try files.loadModel(), tokens).toArray()
    let got = try shardedLogits(files, layout: try ParallelConfig(parsing: text), tokens: tokens)
    #expect(relativeError(got, expected) < 1e-4, "\(name) \(text)")
  }

  @Test("SmolLM2 (9 heads, 3 KV heads, Q4_1): tp 2/3/4, pp 2/3/4 and tp2pp2 logits within 1e-4 of one rank's")
  func smolLM2Logits() throws {
    let files = try ModelFiles(path: Fixtures.smolLM2)
    let tokens: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411]
    let expected = allLogits(try files.loadModel(), tokens).toArray()
    for text in ["tp2", "tp3", "tp4", "pp2", "pp3", "pp4", "tp2pp2"] {
      let got = try shardedLogits(files, layout: try ParallelConfig(parsing: text), tokens: tokens)
      #expect(relativeError(got, expected) < 1e-4, "SmolLM2 \(text)")
    }
  }

  @Test("heads split by KV group, replicated KV heads when tp exceeds them, and clear errors otherwise")
  func headSplits() throws {
    let smol = ModelConfig(
      architecture: .llama, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKVHeads: 3,
      vocabSize: 49152)
    let tp2 = try LlamaShard.headRanges(config: smol, tp: 2)
    #expect(tp2.map(\.0) == [0..<6, 6..<9] && tp2.map(\.1) == [0..<2, 2..<3])
    let tp4 = try LlamaShard.headRanges(config: smol, tp: 4)
    #expect(tp4.map(\.0) == [0..<2, 2..<3, 3..<6, 6..<9] && tp4.map(\.1) == [0..<1, 0..<1, 1..<2, 2..<3])
    #expect(throws: ParallelConfigError.self) { try LlamaShard.headRanges(config: smol, tp: 10) }
    #expect(throws: ParallelConfigError.self) {
      try LlamaShard.make(config: smol, tp: 1, pp: 31, stage: 0, tpRank: 0)
    }
    // Q4_K blocks are 256 columns: 1536 MLP columns cannot go to 8 ranks in whole blocks.
    #expect(throws: ParallelConfigError.self) {
      try LlamaShard.make(config: smol, tp: 8, pp: 1, stage: 0, tpRank: 0, downProjBlock: 256)
    }
    let shard = try LlamaShard.make(config: smol, tp: 2, pp: 3, stage: 2, tpRank: 1, oProjBlock: 32, downProjBlock: 32)
    #expect(shard.layers == 20..<30 && shard.intermediate == 768..<1536 && shard.vocab == 24576..<49152)
  }
}
