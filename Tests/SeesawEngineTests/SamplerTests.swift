import Foundation
import Testing

@testable import SeesawEngine

@Suite("Sampler")
struct SamplerTests {
  static let logits: [Float] = [2.0, 1.5, 1.2, 0.9, 0.5, 0.1, -0.3, -1.0, -2.0, -4.0]

  /// The filtered distribution by the definitions: softmax at temperature; min-p drops p < min_p * p_max;
  /// top-k keeps the k best; top-p keeps the smallest best-first prefix whose mass reaches top_p.
  static func expected(_ p: SamplingParams) -> [Double] {
    let scaled = logits.map { Double($0) / Double(p.temperature) }
    let m = scaled.max()!
    var probs = scaled.map { exp($0 - m) }
    let total = probs.reduce(0, +)
    probs = probs.map { $0 / total }
    var keep = Set(probs.indices)
    if p.minP > 0 { keep = keep.filter { probs[$0] >= Double(p.minP) * probs.max()! } }
    var order = keep.sorted { probs[$0] > probs[$1] }
    if p.topK > 0 { order = Array(order.prefix(p.topK)) }
    if p.topP < 1 {
      let mass = order.reduce(0) { $0 + probs[$1] }
      var cumulative = 0.0
      var cut = order.count
      for (j, id) in order.enumerated() {
        cumulative += probs[id] / mass
        if cumulative >= Double(p.topP) {
          cut = j + 1
          break
        }
      }
      order = Array(order.prefix(cut))
    }
    let mass = order.reduce(0) { $0 + probs[$1] }
    return probs.indices.map { order.contains($0) ? probs[$0] / mass : 0 }
  }

  static func params(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0) -> SamplingParams {
    var p = SamplingParams()
    p.temperature = temperature
    p.topK = topK
    p.topP = topP
    p.minP = minP
    return p
  }

  @Test(
    "draws follow the top-k, top-p and min-p definitions on a fixed logit vector",
    arguments: [
      params(), params(temperature: 0.7), params(topK: 3), params(topP: 0.8), params(minP: 0.2),
      params(temperature: 1.3, topK: 6, topP: 0.9, minP: 0.05),
    ])
  func distribution(params: SamplingParams) {
    let draws = 40_000
    var counts = [Int](repeating: 0, count: Self.logits.count)
    var row = Self.logits
    for step in 0..<draws {
      row = Self.logits
      let random = Sampler.uniform(seed: 7, sampleIndex: 0, step: step)
      let token = row.withUnsafeMutableBufferPointer {
        Sampler.sample($0.baseAddress!, vocab: $0.count, params: params, history: nil, random: random).token
      }
      counts[Int(token)] += 1
    }
    let want = Self.expected(params)
    for (id, p) in want.enumerated() {
      let got = Double(counts[id]) / Double(draws)
      if p == 0 {
        #expect(counts[id] == 0, "token \(id) is filtered out but was drawn \(counts[id]) times")
      } else {
        // Five standard deviations of a binomial proportion.
        #expect(abs(got - p) < 5 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-9, "token \(id): \(got) vs \(p)")
      }
    }
  }

  @Test("greedy takes the argmax, and the same seed and step give the same draw")
  func greedyAndSeeds() {
    var row = Self.logits
    let greedy = row.withUnsafeMutableBufferPointer {
      Sampler.sample($0.baseAddress!, vocab: $0.count, params: .greedy(maxTokens: 1), history: nil, random: 0.99).token
    }
    #expect(greedy == 0)
    #expect(Sampler.uniform(seed: 1, sampleIndex: 0, step: 5) == Sampler.uniform(seed: 1, sampleIndex: 0, step: 5))
    #expect(Sampler.uniform(seed: 1, sampleIndex: 0, step: 5) != Sampler.uniform(seed: 1, sampleIndex: 1, step: 5))
    #expect(Sampler.uniform(seed: 1, sampleIndex: 0, step: 5) != Sampler.uniform(seed: 2, sampleIndex: 0, step: 5))
  }

  @Test("penalties change logits as vLLM defines them, and logprobs are the raw log-softmax")
  func penaltiesAndLogprobs() {
    var p = SamplingParams.greedy(maxTokens: 1)
    p.repetitionPenalty = 2
    p.presencePenalty = 0.5
    p.frequencyPenalty = 0.25
    p.logprobs = 3
    var row: [Float] = [1.0, -1.0, 0.5, 3.0]
    let history = Sampler.History(promptTokenIDs: [0], outputTokenIDs: [1, 1, 3])
    let raw = row
    let (token, logprobs) = row.withUnsafeMutableBufferPointer {
      Sampler.sample($0.baseAddress!, vocab: 4, params: p, history: history, random: 0)
    }
    // 0: prompt only -> 1/2; 1: -1*2 - 0.25*2 - 0.5; 2: untouched; 3: 3/2 - 0.25 - 0.5.
    #expect(row == [0.5, -3.0, 0.5, 0.75])
    #expect(token == 3)
    let logZ = log(raw.map { exp(Double($0)) }.reduce(0, +))
    #expect(abs(Double(logprobs!.sampled) - (3.0 - logZ)) < 1e-5)
    #expect(logprobs!.top.map(\.id) == [3, 0, 2])
  }

  @Test("invalid sampling parameters are rejected naming the field")
  func validation() {
    func expectInvalid(_ field: String, _ change: (inout SamplingParams) -> Void) {
      var p = SamplingParams()
      change(&p)
      #expect(throws: EngineError.self) { try p.validate() }
      do { try p.validate() } catch let e as EngineError { #expect(e.errorDescription!.contains(field)) } catch {}
    }
    expectInvalid("temperature") { $0.temperature = -1 }
    expectInvalid("top_p") { $0.topP = 0 }
    expectInvalid("top_k") { $0.topK = -2 }
    expectInvalid("min_p") { $0.minP = 1.5 }
    expectInvalid("max_tokens") { $0.maxTokens = 0 }
    expectInvalid("min_tokens") { $0.minTokens = 99 }
    expectInvalid("n") { $0.n = 0 }
    expectInvalid("stop") { $0.stop = [""] }
    expectInvalid("logprobs") { $0.logprobs = 50 }
    expectInvalid("presence_penalty") { $0.presencePenalty = 3 }
  }
}
