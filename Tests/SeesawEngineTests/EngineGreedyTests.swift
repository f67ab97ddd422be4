import Foundation
import SeesawModel
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

extension EngineGreedyTests {
  @Test(
    "the tiny fixtures' greedy goldens come out of the engine in one batch, with small chunks and scattered blocks",
    arguments: ["tiny-llama-gqa-tied", "tiny-llama-untied", "tiny-qwen2-bias", "tiny-mistral", "tiny-llama-quant.gguf"])
  func tinyFixtures(name: String) throws {
    let goldenName = name.hasSuffix(".gguf") ? "\(name).json" : "\(name)/golden.json"
    let greedy = try EngineFixtures.json(goldenName)["greedy"] as! [String: Any]
    let prompt = EngineFixtures.ids(greedy["prompt_ids"])
    let expected = EngineFixtures.ids(greedy["generated_ids"])
    let model = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/\(name)").path).loadModel()
    var params = SamplingParams.greedy(maxTokens: expected.count)
    params.ignoreEOS = true
    for config in [EngineFixtures.config(numBlocks: 32), EngineFixtures.config(numBlocks: 32, maxBatchedTokens: 3)] {
      let engine = try LLMEngine(model: model, tokenizer: nil, config: config)
      // The golden prompt between two other requests, so that its blocks are not the first ones.
      let outputs = try engine.generate(
        [.tokens([5, 6, 7]), .tokens(prompt), .tokens(Array(prompt.reversed()))], params: params)
      #expect(outputs[1].outputs[0].tokenIDs == expected, "\(name)")
    }
  }

  @Test("metrics count the decode tokens that ran in steps with prompt work apart from decode-only steps' tokens")
  func mixedStepMetrics() throws {
    let model = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/tiny-mistral").path)
      .loadModel()
    var params = SamplingParams.greedy(maxTokens: 6)
    params.ignoreEOS = true
    // A budget of 3 tokens a step: the first prompt decodes while the second one's chunks go in.
    let engine = try LLMEngine(
      model: model, tokenizer: nil, config: EngineFixtures.config(numBlocks: 32, maxBatchedTokens: 3))
    _ = try engine.generate([.tokens([5, 6]), .tokens(Array(1...20))], params: [params, params])
    let m = engine.metrics
    #expect(m.numPromptTokens == 22)
    #expect(m.prefillStepDecodeTokens > 0)
    #expect(m.prefillStepDecodeTokens + m.decodeStepTokens == m.numDecodeTokens)
    #expect(m.prefillStepDecodeContext >= 3 * m.prefillStepDecodeTokens)  // the first prompt's 2 positions and more
  }

  @Test("the async stream delivers every request once")
  func asyncStream() async throws {
    let model = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/tiny-mistral").path)
      .loadModel()
    let engine = try LLMEngine(model: model, tokenizer: nil, config: EngineFixtures.config(numBlocks: 32))
    var params = SamplingParams.greedy(maxTokens: 5)
    params.ignoreEOS = true
    for p in [[1, 2, 3], [4, 5], [6]] as [[Int32]] { try engine.addRequest(.tokens(p), params: params) }
    var seen: [Int] = []
    for try await output in engine.outputs() { seen.append(output.index) }
    #expect(seen.sorted() == [0, 1, 2])
  }
}
