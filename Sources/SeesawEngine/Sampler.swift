import Foundation
import SeesawTensor

/// Picks the next token from one row of logits, as vLLM does: penalties, then greedy argmax, or temperature,
/// min-p, top-k and top-p filtering and a draw. The draw uses a counter-based random number (seed, sample index,
/// step), so a seeded request gets the same tokens whatever else shares its batch.
public enum Sampler {
  /// The log-probabilities that come with a sampled token.
  public struct Logprobs: Sendable, Equatable {
    /// Log-probability of the sampled token under the model's distribution (before penalties and temperature).
    public var sampled: Float
    /// The most likely tokens and their log-probabilities, best first.
    public var top: [(id: Int32, logprob: Float)]

    public static func == (a: Logprobs, b: Logprobs) -> Bool {
      a.sampled == b.sampled && a.top.map(\.id) == b.top.map(\.id) && a.top.map(\.logprob) == b.top.map(\.logprob)
    }
  }

  /// Penalty context of a sequence: its prompt and generated ids.
  public struct History: Sendable {
    public var promptTokenIDs: [Int32]
    public var outputTokenIDs: [Int32]

    public init(promptTokenIDs: [Int32], outputTokenIDs: [Int32]) {
      self.promptTokenIDs = promptTokenIDs
      self.outputTokenIDs = outputTokenIDs
    }
  }

  /// Samples from `logits[0..<vocab]` (modified in place by penalties and filters).
  /// - Parameter random: a uniform number in [0, 1) for the draw (unused when greedy).
  public static func sample(
    _ logits: UnsafeMutablePointer<Float>, vocab: Int, params: SamplingParams, history: History?, random: Double
  ) -> (token: Int32, logprobs: Logprobs?) {
    let logprobs = params.logprobs.map { _ in rawLogSoftmax(logits, vocab) }
    if let history, params.usesPenalties { applyPenalties(logits, vocab, params, history) }
    let token: Int32
    if params.isGreedy {
      token = Int32(Elementwise.argmax(logits, count: vocab))
    } else {
      token = draw(logits, vocab, params, random)
    }
    guard let k = params.logprobs, let logprobs else { return (token, nil) }
    let top = topIndices(logprobs, k).map { (Int32($0), logprobs[$0]) }
    return (token, Logprobs(sampled: logprobs[Int(token)], top: top))
  }

  /// Uniform [0, 1) from (seed, sample index, step): SplitMix64 over a mixed key.
  public static func uniform(seed: UInt64, sampleIndex: Int, step: Int) -> Double {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: step &+ 1)
    z ^= UInt64(truncatingIfNeeded: sampleIndex) &* 0xD1B5_4A32_D192_ED03
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) / Double(1 << 53)
  }

  static func rawLogSoftmax(_ logits: UnsafePointer<Float>, _ n: Int) -> [Float] {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, logits[i]) }
    var sum: Double = 0
    for i in 0..<n { sum += Double(expf(logits[i] - m)) }
    let logZ = m + Float(log(sum))
    return (0..<n).map { logits[$0] - logZ }
  }

  /// The k largest values' indices, largest first (ties: lower index first).
  static func topIndices(_ values: [Float], _ k: Int) -> [Int] {
    guard k > 0 else { return [] }
    var best: [Int] = []
    for i in values.indices {
      if best.count < k || values[i] > values[best[best.count - 1]] {
        var at = best.count
        while at > 0 && values[best[at - 1]] < values[i] { at -= 1 }
        best.insert(i, at: at)
        if best.count > k { best.removeLast() }
      }
    }
    return best
  }

  /// vLLM's penalties: repetition over prompt and output ids; presence and frequency over output ids.
  static func applyPenalties(_ logits: UnsafeMutablePointer<Float>, _ n: Int, _ p: SamplingParams, _ h: History) {
    if p.repetitionPenalty != 1 {
      for id in Set(h.promptTokenIDs + h.outputTokenIDs) where id >= 0 && Int(id) < n {
        let l = logits[Int(id)]
        logits[Int(id)] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
      }
    }
    if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
      var counts: [Int32: Int] = [:]
      for id in h.outputTokenIDs { counts[id, default: 0] += 1 }
      for (id, count) in counts where id >= 0 && Int(id) < n {
        logits[Int(id)] -= p.frequencyPenalty * Float(count) + p.presencePenalty
      }
    }
  }

  /// Temperature, min-p, top-k and top-p, then inverse-CDF sampling with `random`.
  static func draw(_ logits: UnsafeMutablePointer<Float>, _ n: Int, _ p: SamplingParams, _ random: Double) -> Int32 {
    // Probabilities at the temperature.
    var m = -Float.infinity
    for i in 0..<n { m = max(m, logits[i]) }
    var probs = [Double](repeating: 0, count: n)
    var total = 0.0
    for i in 0..<n {
      let e = exp(Double((logits[i] - m) / p.temperature))
      probs[i] = e
      total += e
    }
    let maxProb = 1 / total  // the best token has e = 1
    for i in 0..<n { probs[i] /= total }
    let minProb = p.minP > 0 ? Double(p.minP) * maxProb : 0
    if p.topK <= 0 && p.topP >= 1 {
      // No ranking needed: inverse CDF in id order over the tokens min-p keeps.
      let kept = (0..<n).reduce(0.0) { probs[$1] >= minProb ? $0 + probs[$1] : $0 }
      var target = random * kept
      var last = 0
      for i in 0..<n where probs[i] >= minProb && probs[i] > 0 {
        target -= probs[i]
        last = i
        if target < 0 { return Int32(i) }
      }
      return Int32(last)
    }
    // Candidates above a tiny floor, best first; the floor is lowered until they hold all the mass top-p needs
    // (every excluded token is less likely than every included one, so the result is exact).
    var floor = max(minProb, maxProb * 1e-6)
    var candidates: [Int] = []
    while true {
      candidates = (0..<n).filter { probs[$0] >= floor && probs[$0] > 0 }
      let mass = candidates.reduce(0.0) { $0 + probs[$1] }
      let needed = p.topP < 1 ? Double(p.topP) : 1.0
      if floor <= minProb || floor == 0 || mass >= needed * (1 - 1e-12) || (p.topK > 0 && candidates.count >= p.topK) {
        break
      }
      floor = floor > 1e-300 ? max(minProb, floor * 1e-6) : 0
    }
    candidates.sort { probs[$0] != probs[$1] ? probs[$0] > probs[$1] : $0 < $1 }
    if p.topK > 0 && candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }
    if p.topP < 1 {
      let kept = candidates.reduce(0.0) { $0 + probs[$1] }
      var cumulative = 0.0
      var cut = candidates.count
      for (j, id) in candidates.enumerated() {
        cumulative += probs[id] / kept
        if cumulative >= Double(p.topP) {
          cut = j + 1
          break
        }
      }
      candidates.removeLast(candidates.count - cut)
    }
    let kept = candidates.reduce(0.0) { $0 + probs[$1] }
    var target = random * kept
    for id in candidates {
      target -= probs[id]
      if target < 0 { return Int32(id) }
    }
    return Int32(candidates.last ?? 0)
  }
}
