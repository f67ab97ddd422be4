import Foundation
import Testing

@testable import SeesawEngine

/// Stop conditions, seeds and n > 1 through the whole engine on SmolLM2.
@Suite("Engine stop conditions and sampling", .serialized)
struct EngineStopTests {
  static let question = Prompt.messages([.init(role: "user", content: "What is the capital of France?")])

  static func generate(_ params: SamplingParams, _ prompts: [Prompt] = [question]) throws -> [RequestOutput] {
    let engine = try EngineFixtures.smolLM2Engine(EngineFixtures.config(numBlocks: 64), tokenizer: true)
    return try engine.generate(prompts, params: params)
  }

  @Test("greedy chat stops at the end-of-sequence token with reason stop")
  func eos() throws {
    let out = try Self.generate(.greedy(maxTokens: 40))[0].outputs[0]
    #expect(out.text == "The capital of France is Paris.")
    #expect(out.finishReason == .stop)
  }

  @Test("a stop string ends the text before it, even when it spans tokens")
  func stopString() throws {
    var p = SamplingParams.greedy(maxTokens: 40)
    p.stop = ["France is", "never"]
    let out = try Self.generate(p)[0].outputs[0]
    #expect(out.text == "The capital of ")
    #expect(out.finishReason == .stop)
  }

  @Test("stop token ids, max_tokens, ignore_eos and min_tokens")
  func tokenLimits() throws {
    let tokenizer = try EngineFixtures.smolLM2Tokenizer()
    let france = tokenizer.encode(" France", addSpecialTokens: false)
    #expect(france.count == 1)
    var stopID = SamplingParams.greedy(maxTokens: 40)
    stopID.stopTokenIDs = france
    let a = try Self.generate(stopID)[0].outputs[0]
    #expect(a.tokenIDs.last == france[0] && a.finishReason == .stop && a.text == "The capital of France")

    let b = try Self.generate(.greedy(maxTokens: 3))[0].outputs[0]
    #expect(b.tokenIDs.count == 3 && b.finishReason == .length)

    var ignore = SamplingParams.greedy(maxTokens: 15)
    ignore.ignoreEOS = true
    let c = try Self.generate(ignore)[0].outputs[0]
    #expect(c.tokenIDs.count == 15 && c.finishReason == .length)
    #expect(c.tokenIDs.contains(tokenizer.eosTokenID!))

    var minimum = SamplingParams.greedy(maxTokens: 15)
    minimum.minTokens = 12
    let d = try Self.generate(minimum)[0].outputs[0]
    #expect(d.tokenIDs.count >= 12)
  }

  @Test("seeded sampling gives the same tokens alone, in a batch, and across runs")
  func seededReproducibility() throws {
    var p = SamplingParams()
    p.temperature = 0.9
    p.topP = 0.95
    p.maxTokens = 24
    p.ignoreEOS = true
    p.seed = 1234
    let alone = try Self.generate(p)[0].outputs[0].tokenIDs
    let again = try Self.generate(p)[0].outputs[0].tokenIDs
    var other = p
    other.seed = 99
    let others: [Prompt] = [.text("Once upon a time"), Self.question, .text("def f(x):")]
    let engine = try EngineFixtures.smolLM2Engine(EngineFixtures.config(numBlocks: 64, maxBatchedTokens: 9), tokenizer: true)
    let batched = try engine.generate(others, params: [other, p, other])[1].outputs[0].tokenIDs
    #expect(alone == again)
    #expect(alone == batched)
    var different = p
    different.seed = 4321
    #expect(try Self.generate(different)[0].outputs[0].tokenIDs != alone)
  }

  @Test("n samples of one prompt: n completions, different when sampled, identical when greedy")
  func parallelSamples() throws {
    var p = SamplingParams()
    p.n = 4
    p.temperature = 1
    p.maxTokens = 12
    p.ignoreEOS = true
    p.seed = 5
    p.logprobs = 2
    let sampled = try Self.generate(p)[0].outputs
    #expect(sampled.count == 4 && sampled.map(\.index) == [0, 1, 2, 3])
    #expect(Set(sampled.map(\.tokenIDs)).count > 1)
    #expect(sampled.allSatisfy { $0.logprobs.count == 12 && $0.logprobs.allSatisfy { $0.top.count == 2 } })
    var g = SamplingParams.greedy(maxTokens: 12)
    g.n = 3
    let greedy = try Self.generate(g)[0].outputs
    #expect(Set(greedy.map(\.tokenIDs)).count == 1)
  }

  @Test("requests that can never fit, or carry bad ids, are rejected with their index")
  func rejects() throws {
    let engine = try EngineFixtures.smolLM2Engine(EngineFixtures.config(numBlocks: 2), tokenizer: true)
    #expect(throws: EngineError.self) { try engine.addRequest(.tokens(Array(repeating: 1, count: 30)), params: .greedy(maxTokens: 8)) }
    #expect(throws: EngineError.self) { try engine.addRequest(.tokens([1, 999_999]), params: .greedy(maxTokens: 1)) }
    #expect(throws: EngineError.self) { try engine.addRequest(.tokens([]), params: .greedy(maxTokens: 1)) }
  }
}
