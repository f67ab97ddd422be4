import Foundation
import SeesawModel
import SeesawParallel
import SeesawTensor
import Testing

@testable import SeesawEngine

/// An engine over `layout`'s ranks as threads of this process; with `decode`, a Seesaw plan `layout -> decode`
/// with a host buffer of `config.numHostBlocks` blocks.
func parallelEngine(_ files: ModelFiles, _ layout: String, decode: String? = nil, config: EngineConfig) throws
  -> LLMEngine
{
  let prefill = try ParallelConfig(parsing: layout)
  let plan =
    try decode.map { try PhasePlan(prefill: prefill, decode: try ParallelConfig(parsing: $0)) }
    ?? PhasePlan(static: prefill)
  let runtime = try ParallelRuntime.local(
    files: files, plan: plan, blockSize: config.blockSize, kvCacheDType: config.kvCacheDType, timeout: 120,
    makeBackend: { CPUBackend() },
    numBlocks: { _ in config.numBlocks! }, numHostBlocks: config.numHostBlocks ?? 0)
  return try LLMEngine(runtime: runtime, tokenizer: nil, config: config)
}

/// Token ids of every completion, in request order.
func completions(_ engine: LLMEngine, _ prompts: [[Int32]], _ params: [SamplingParams]) throws -> [[[Int32]]] {
  try engine.generate(prompts.map { .tokens($0) }, params: params).map { $0.outputs.map(\.tokenIDs) }
}

@Suite("Parallel engine outputs equal one rank's", .serialized)
struct ParallelEngineTests {
  @Test(
    "SmolLM2 goldens come out of every layout: tp 2/3/4, pp 2/3/4, tp2pp2, dp2",
    arguments: ["tp2", "tp3", "tp4", "pp2", "pp3", "pp4", "tp2pp2", "dp2"])
  func smolLM2Goldens(layout: String) throws {
    let goldens = try EngineFixtures.smolLM2Goldens()
    // A 24-token budget: prompts are chunked and share steps with decodes, so micro-batches mix both.
    let engine = try parallelEngine(
      try ModelFiles(path: EngineFixtures.smolLM2Path), layout,
      config: EngineFixtures.config(numBlocks: 64, maxBatchedTokens: 24))
    var params = SamplingParams.greedy(maxTokens: goldens[0].generated.count)
    params.ignoreEOS = true
    let outputs = try completions(engine, goldens.map(\.prompt), Array(repeating: params, count: goldens.count))
    for (output, golden) in zip(outputs, goldens) { #expect(output == [golden.generated], "\(layout)") }
    let reports = try engine.shutdown()
    #expect(reports.map(\.rank) == Array(0..<(try ParallelConfig(parsing: layout)).worldSize))
  }

  static let tinyLayouts: [(String, String)] = [
    ("tiny-llama-gqa-tied", "tp2"), ("tiny-llama-gqa-tied", "tp2pp2"), ("tiny-llama-untied", "pp3"),
    ("tiny-llama-untied", "tp4"), ("tiny-qwen2-bias", "dp2tp2"), ("tiny-mistral", "tp4"),
    ("tiny-llama-quant.gguf", "pp2"),
  ]

  @Test(
    "tiny models: 40 requests with sampling, n = 2 and preemption give one rank's tokens in every layout",
    arguments: tinyLayouts)
  func tinyRequests(model name: String, layout: String) throws {
    let files = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/\(name)").path)
    let vocab = files.config.vocabSize
    let prompts: [[Int32]] = (0..<40).map { (i: Int) -> [Int32] in
      let length = 3 + i * 7 % 29
      return (0..<length).map { (j: Int) -> Int32 in Int32((i * 31 + j * 17) % vocab) }
    }
    let params: [SamplingParams] = (0..<40).map { i in
      var p = SamplingParams.greedy(maxTokens: 4 + i % 9)
      p.ignoreEOS = true
      if i % 3 == 0 {
        p.temperature = 0.8
        p.seed = UInt64(i)
        p.n = 2
      }
      return p
    }
    // Few blocks and a small budget: preemption, chunked prompts, copy-on-write of shared blocks (n = 2).
    let config = EngineFixtures.config(numBlocks: 24, maxBatchedTokens: 40)
    let single = try LLMEngine(model: try files.loadModel(), tokenizer: nil, config: config)
    let expected = try completions(single, prompts, params)
    let engine = try parallelEngine(files, layout, config: config)
    #expect(try completions(engine, prompts, params) == expected, "\(name) \(layout)")
    #expect(single.schedulerStats.numPreemptions > 0)
    _ = try engine.shutdown()
  }

  @Test("a rank that cannot load its shard fails the run at once with its reason")
  func unsplittable() throws {
    let files = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/tiny-llama-gqa-tied").path)
    // 2 layers cannot make 3 stages; 4 heads cannot go to 5 ranks.
    for layout in ["pp3", "tp5"] {
      #expect(throws: ParallelConfigError.self, "\(layout)") {
        _ = try parallelEngine(files, layout, config: EngineFixtures.config(numBlocks: 8))
      }
    }
  }

  @Test("micro-batches split a step's tokens evenly and in order, cutting long chunks into pieces")
  func microBatches() {
    func pieces(_ tokens: [Int], _ count: Int) -> [[[Int]]] {
      ParallelExecutor.microBatches(tokens, maxCount: count).map {
        $0.map { [$0.sequence, $0.tokens.lowerBound, $0.tokens.upperBound] }
      }
    }
    #expect(
      pieces([512, 1, 1, 1, 300, 200], 2) == [
        [[0, 0, 507]], [[0, 507, 512], [1, 0, 1], [2, 0, 1], [3, 0, 1], [4, 0, 300], [5, 0, 200]],
      ])
    #expect(pieces([1, 1, 1, 1], 2) == [[[0, 0, 1], [1, 0, 1]], [[2, 0, 1], [3, 0, 1]]])
    #expect(pieces([100], 4) == [[[0, 0, 25]], [[0, 25, 50]], [[0, 50, 75]], [[0, 75, 100]]])
    #expect(pieces([5, 5], 3) == [[[0, 0, 3]], [[0, 3, 5], [1, 0, 1]], [[1, 1, 5]]])
    #expect(pieces([1], 4) == [[[0, 0, 1]]])
    #expect(pieces([], 2) == [])
  }

  @Test("step commands survive encoding, and a truncated one is an error, not a crash")
  func commandCoding() throws {
    let batch = ForwardBatch(
      chunks: [
        .init(tokens: [1, 2, 3], startPosition: 0, blockTable: [4]),
        .init(tokens: [9], startPosition: 17, blockTable: [1, 2]),
      ],
      blockSize: 16)
    let command = StepCommand(
      kind: .step, isDecodeOnly: false, blockCopies: [BlockCopy(source: 1, destination: 5)],
      microBatches: [batch, batch])
    let bytes = command.encoded()
    #expect(try StepCommand(decoding: bytes) == command)
    #expect(throws: ExecutorError.self) { try StepCommand(decoding: Array(bytes.dropLast(3))) }
    #expect(throws: ExecutorError.self) { try StepCommand(decoding: bytes + [0]) }
  }
}

extension ParallelEngineTests {
  @Test("a rank that fails mid-run ends the driver's step with its reason, not a hang")
  func rankFailure() throws {
    let files = try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/tiny-llama-gqa-tied").path)
    let engine = try parallelEngine(files, "tp2pp2", config: EngineFixtures.config(numBlocks: 16))
    var params = SamplingParams.greedy(maxTokens: 50)
    params.ignoreEOS = true
    try engine.addRequest(.tokens([1, 2, 3]), params: params)
    _ = try engine.step()
    // Rank 3 gets a garbled command: it aborts the world, and the driver's next step fails within the timeout.
    try engine.runtime!.world.send([0xFF, 1, 2], to: 3, tag: MessageTag.command)
    let start = Date()
    #expect {
      while engine.hasUnfinishedRequests { _ = try engine.step() }
    } throws: { error in
      "\(error)".contains("rank 3") && "\(error)".contains("malformed message")
    }
    #expect(Date().timeIntervalSince(start) < 30)
  }
}
