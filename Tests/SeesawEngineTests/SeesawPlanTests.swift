import Foundation
import SeesawModel
import SeesawParallel
import SeesawTensor
import Testing

@testable import SeesawEngine

/// Seesaw plans (a prefill layout and a decode layout, K/V through the host buffer) against static layouts.
@Suite("Seesaw plans give static layouts' outputs", .serialized)
struct SeesawPlanTests {
  static func tinyFiles(_ name: String) throws -> ModelFiles {
    try ModelFiles(path: EngineFixtures.tests.appendingPathComponent("Fixtures/\(name)").path)
  }

  /// `count` prompts of varied lengths, and params with varied max_tokens; every third samples (seeded), n = 2.
  static func workload(count: Int, vocab: Int, sampling: Bool = true) -> ([[Int32]], [SamplingParams]) {
    let prompts: [[Int32]] = (0..<count).map { (i: Int) -> [Int32] in
      let length = 3 + i * 7 % 29
      return (0..<length).map { (j: Int) -> Int32 in Int32((i * 31 + j * 17) % vocab) }
    }
    let params: [SamplingParams] = (0..<count).map { (i: Int) -> SamplingParams in
      var p = SamplingParams.greedy(maxTokens: 2 + i % 11)
      p.ignoreEOS = true
      if sampling && i % 3 == 0 {
        p.temperature = 0.8
        p.seed = UInt64(i)
        p.n = 2
      }
      return p
    }
    return (prompts, params)
  }

  static func config(numBlocks: Int, hostBlocks: Int, prefillTokens: Int = 64) -> EngineConfig {
    var c = EngineFixtures.config(numBlocks: numBlocks)
    c.numHostBlocks = hostBlocks
    c.maxPrefillTokens = prefillTokens
    return c
  }

  @Test(
    "tiny models: 120 requests through a small host buffer (transitions, evictions) equal the static layout's",
    arguments: [
      ("tiny-llama-untied", "pp3", "tp3"), ("tiny-llama-gqa-tied", "pp2", "tp2"), ("tiny-llama-untied", "pp2", "tp2"),
      ("tiny-qwen2-bias", "tp2pp2", "tp4"), ("tiny-mistral", "dp2pp2", "dp2tp2"),
      ("tiny-llama-quant.gguf", "pp2", "tp2"),
    ])
  func tinyPlans(model name: String, prefill: String, decode: String) throws {
    let files = try Self.tinyFiles(name)
    let (prompts, params) = Self.workload(count: 120, vocab: files.config.vocabSize)
    let staticEngine = try parallelEngine(files, decode, config: EngineFixtures.config(numBlocks: 256))
    let expected = try completions(staticEngine, prompts, params)
    _ = try staticEngine.shutdown()
    // 12 host blocks hold a few prompts; 10 decode blocks force evictions.
    let engine = try parallelEngine(files, prefill, decode: decode, config: Self.config(numBlocks: 10, hostBlocks: 12))
    #expect(try completions(engine, prompts, params) == expected, "\(name) \(prefill) -> \(decode)")
    let stats = engine.schedulerStats.seesaw!
    #expect(stats.numTransitions >= 3 && stats.numEvictions > 0, "\(stats)")
    #expect(stats.numUsedHostBlocks == 0 && engine.schedulerStats.numUsedBlocks == 0)
    let reports = try engine.shutdown()
    // Every rank switched with its replica's scheduler (the most switches of any replica) and moved K/V.
    #expect(
      reports.allSatisfy { $0.numTransitions > 0 && $0.numTransitions <= stats.numTransitions && $0.swappedBytes > 0 })
    #expect(reports.map(\.numTransitions).max() == stats.numTransitions)
  }

  @Test("a bf16 KV cache: caches and host buffer of pp2 -> tp2 hold what static tp2's cache holds, so outputs agree")
  func bf16KVCachePlan() throws {
    let files = try Self.tinyFiles("tiny-llama-gqa-tied")
    let (prompts, params) = Self.workload(count: 120, vocab: files.config.vocabSize)
    var staticConfig = EngineFixtures.config(numBlocks: 256)
    staticConfig.kvCacheDType = .bf16
    let staticEngine = try parallelEngine(files, "tp2", config: staticConfig)
    let expected = try completions(staticEngine, prompts, params)
    _ = try staticEngine.shutdown()
    var config = Self.config(numBlocks: 10, hostBlocks: 12)
    config.kvCacheDType = .bf16
    let engine = try parallelEngine(files, "pp2", decode: "tp2", config: config)
    #expect(try completions(engine, prompts, params) == expected)
    let stats = engine.schedulerStats.seesaw!
    #expect(stats.numTransitions >= 3 && stats.numEvictions > 0, "\(stats)")
    _ = try engine.shutdown()
    // The rounding is real: the f32 cache's outputs differ somewhere in this workload.
    let f32Engine = try parallelEngine(files, "tp2", config: EngineFixtures.config(numBlocks: 256))
    #expect(try completions(f32Engine, prompts, params) != expected)
    _ = try f32Engine.shutdown()
  }

  @Test("a bf16 KV cache fits twice the blocks of an f32 one in the same memory, device cache and host buffer")
  func bf16KVCacheSizing() throws {
    let config = try Self.tinyFiles("tiny-llama-gqa-tied").config
    var engine = EngineConfig()
    engine.kvCacheMemory = 64 << 20
    engine.hostKVMemory = 48 << 20
    let f32 = (
      KVCacheSizing.numBlocks(config: config, engine: engine),
      KVCacheSizing.numHostBlocks(config: config, engine: engine)
    )
    engine.kvCacheDType = .bf16
    let bf16 = (
      KVCacheSizing.numBlocks(config: config, engine: engine),
      KVCacheSizing.numHostBlocks(config: config, engine: engine)
    )
    #expect(bf16.0 == 2 * f32.0 && bf16.1 == 2 * f32.1, "\(f32) \(bf16)")
  }

  @Test("SmolLM2: 100 greedy requests under pp2 -> tp2 equal static tp2's, with at least 3 transitions")
  func smolLM2Plan() throws {
    let files = try ModelFiles(path: EngineFixtures.smolLM2Path)
    let goldens = try EngineFixtures.smolLM2Goldens()
    var prompts = goldens.map(\.prompt)
    let (more, _) = Self.workload(count: 96, vocab: files.config.vocabSize)
    prompts += more
    var params = SamplingParams.greedy(maxTokens: 12)
    params.ignoreEOS = true
    var goldenParams = params
    goldenParams.maxTokens = goldens[0].generated.count
    let all = Array(repeating: goldenParams, count: goldens.count) + Array(repeating: params, count: more.count)
    let engine = try parallelEngine(files, "pp2", decode: "tp2", config: Self.config(numBlocks: 64, hostBlocks: 24))
    let got = try completions(engine, prompts, all)
    for (output, golden) in zip(got, goldens) { #expect(output == [golden.generated]) }
    let transitions = engine.schedulerStats.seesaw!.numTransitions
    _ = try engine.shutdown()
    let staticEngine = try parallelEngine(files, "tp2", config: EngineFixtures.config(numBlocks: 256))
    #expect(try completions(staticEngine, prompts, all) == got)
    _ = try staticEngine.shutdown()
    #expect(transitions >= 3, "\(transitions) transitions")
  }

  @Test(
    "requests that finish at their first token (max_tokens 1, or a stop token) never reach decode; the buffer ends empty"
  )
  func allFinishInPrefill() throws {
    let files = try Self.tinyFiles("tiny-llama-gqa-tied")
    let (prompts, greedy) = Self.workload(count: 30, vocab: files.config.vocabSize, sampling: false)
    let single = try LLMEngine(
      model: try files.loadModel(), tokenizer: nil, config: EngineFixtures.config(numBlocks: 64))
    let firstTokens = try completions(single, prompts, greedy).map { $0[0][0] }
    // Even requests stop at max_tokens 1; odd ones would run on, but their first token is a stop token.
    let params = greedy.enumerated().map { i, p -> SamplingParams in
      var p = p
      if i % 2 == 0 { p.maxTokens = 1 } else { p.stopTokenIDs = [firstTokens[i]] }
      return p
    }
    let expected = try completions(single, prompts, params)
    #expect(expected.allSatisfy { $0[0].count == 1 })
    let engine = try parallelEngine(files, "pp2", decode: "tp2", config: Self.config(numBlocks: 16, hostBlocks: 8))
    #expect(try completions(engine, prompts, params) == expected)
    let stats = engine.schedulerStats.seesaw!
    #expect(stats.phase == .prefill && stats.numTransitions == 0 && stats.swappedInTokens == 0)
    #expect(stats.numUsedHostBlocks == 0)
    _ = try engine.shutdown()
  }

  @Test("a request longer than the host buffer is refused with a clear error; the others still run")
  func promptLongerThanBuffer() throws {
    let files = try Self.tinyFiles("tiny-llama-gqa-tied")
    let engine = try parallelEngine(files, "pp2", decode: "tp2", config: Self.config(numBlocks: 32, hostBlocks: 4))
    var params = SamplingParams.greedy(maxTokens: 4)
    params.ignoreEOS = true
    #expect {
      try engine.addRequest(.tokens((0..<70).map { Int32($0 % 200) }), params: params)
    } throws: { error in
      (error as? EngineError).map { "\($0.errorDescription ?? "")".contains("host KV buffer (64 tokens)") } ?? false
    }
    let outputs = try engine.generate([.tokens([1, 2, 3])], params: params)
    #expect(outputs.count == 1 && outputs[0].outputs[0].tokenIDs.count == 4)
    _ = try engine.shutdown()
  }

  @Test("the phase rule: prefill until the buffer is full, decode until it runs low, then prefill again")
  func phaseRule() {
    var config = EngineConfig()
    config.blockSize = 4
    config.maxPrefillTokens = 8
    let s = SeesawScheduler(config: config, numBlocks: 64, numPrefillBlocks: 64, numHostBlocks: 6)
    var params = SamplingParams.greedy(maxTokens: 3)
    params.ignoreEOS = true
    for i in 0..<5 {
      s.add(
        SchedulerRequest(index: i, promptTokenIDs: [1, 2, 3, 4, 5, 6, 7, 8], params: params, stopTokenIDs: [], seed: 0))
    }
    var phases: [Phase] = []
    while s.hasUnfinished {
      let out = s.schedule()
      phases.append(out.phase)
      _ = s.update(
        StepOutput(
          sampled: out.sequences.flatMap {
            $0.samples.map { .init(sequenceID: $0.sequenceID, token: 9, logprobs: nil) }
          },
          forwardSeconds: 0, sampleSeconds: 0))
    }
    // 6 host blocks hold three 8-token prompts (2 blocks each): three prefill steps (8 tokens each), then decode;
    // the buffer empties on the first decode step (nothing runs yet, so all three swap in at once and make their
    // 2nd token), so the last two prompts are prefilled next while those three wait in the decode cache. Then
    // decode: the first three make their 3rd (last) token while the new two are prefetched behind that step; the
    // new two make their 2nd and 3rd tokens in the next two steps.
    #expect(phases == [.prefill, .prefill, .prefill, .decode, .prefill, .prefill, .decode, .decode, .decode])
    #expect(s.stats.seesaw?.numTransitions == 3 && s.stats.seesaw?.swappedInTokens == 5 * 8)
  }
}
