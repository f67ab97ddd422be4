import Foundation
import Testing

@testable import SeesawEngine

/// Batched, chunked and preempted greedy generation equals transformers' one-at-a-time greedy ids.
@Suite("Engine greedy outputs", .serialized)
struct EngineGreedyTests {
  static func run(_ config: EngineConfig) throws -> ([[Int32]], LLMEngine) {
    let goldens = try EngineFixtures.smolLM2Goldens()
    let engine = try EngineFixtures.smolLM2Engine(config)
    var params = SamplingParams.greedy(maxTokens: goldens[0].generated.count)
    params.ignoreEOS = true
    let outputs = try engine.generate(goldens.map { .tokens($0.prompt) }, params: params)
    #expect(outputs.map(\.index) == Array(0..<goldens.count))
    return (outputs.map { $0.outputs[0].tokenIDs }, engine)
  }

  @Test(
    "SmolLM2 goldens come out right whatever the batch composition and chunking",
    arguments: [
      (2048, nil as Int?, true, 256),  // everything in one batch
      (16, nil, true, 256),  // 16-token budget: prompts are chunked across steps, mixed with decodes
      (100, 7, true, 256),  // chunks of 7
      (2048, nil, false, 256),  // no chunked prefill
      (2048, nil, true, 1),  // one sequence at a time
    ])
  func batchCompositions(budget: Int, chunk: Int?, chunked: Bool, maxSeqs: Int) throws {
    let goldens = try EngineFixtures.smolLM2Goldens()
    let (outputs, _) = try Self.run(
      EngineFixtures.config(numBlocks: 64, maxBatchedTokens: budget, chunk: chunk, chunked: chunked, maxSeqs: maxSeqs))
    for (output, golden) in zip(outputs, goldens) { #expect(output == golden.generated) }
  }

  @Test("a KV cache too small for all four sequences forces preemption, and every request is still right")
  func preemption() throws {
    let goldens = try EngineFixtures.smolLM2Goldens()
    // The longest sequence needs 7 blocks of 16; 10 blocks cannot hold all four at once.
    let (outputs, engine) = try Self.run(EngineFixtures.config(numBlocks: 10))
    #expect(engine.schedulerStats.numPreemptions > 0)
    for (output, golden) in zip(outputs, goldens) { #expect(output == golden.generated) }
    #expect(engine.schedulerStats.numUsedBlocks == 0)
  }
}
