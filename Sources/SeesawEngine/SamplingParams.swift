/// How to pick the tokens of one request, with vLLM's names and defaults.
public struct SamplingParams: Sendable, Equatable, Codable {
  /// 0 means greedy.
  public var temperature: Float = 1
  /// Nucleus sampling: keep the smallest set of tokens whose probability reaches top_p (1 = off).
  public var topP: Float = 1
  /// Keep the k most likely tokens (0 or -1 = off).
  public var topK: Int = 0
  /// Drop tokens whose probability is below min_p times the most likely one's (0 = off).
  public var minP: Float = 0
  /// Per-request seed: the same seed gives the same tokens whatever else is in the batch.
  public var seed: UInt64? = nil
  public var maxTokens: Int = 16
  /// Stop conditions are ignored until this many tokens are generated.
  public var minTokens: Int = 0
  /// Generation stops when the text contains one of these; the stop string is not part of the output.
  public var stop: [String] = []
  /// Generation stops at these ids (kept in the output ids, as vLLM does).
  public var stopTokenIDs: [Int32] = []
  /// Do not stop at the end-of-sequence token.
  public var ignoreEOS = false
  /// Completions per prompt; they share the prompt's KV blocks.
  public var n = 1
  /// Number of top log-probabilities to return per generated token (nil = none).
  public var logprobs: Int? = nil
  /// > 1 discourages tokens already in the prompt or output (CTRL's penalty, as in vLLM/HF).
  public var repetitionPenalty: Float = 1
  /// Subtracted once from the logit of every token already generated.
  public var presencePenalty: Float = 0
  /// Subtracted per occurrence from the logit of every token already generated.
  public var frequencyPenalty: Float = 0
  /// Leave special tokens out of the output text.
  public var skipSpecialTokens = true

  public init() {}

  /// Greedy decoding of up to `maxTokens` tokens.
  public static func greedy(maxTokens: Int) -> SamplingParams {
    var p = SamplingParams()
    p.temperature = 0
    p.maxTokens = maxTokens
    return p
  }

  public var isGreedy: Bool { temperature == 0 }
  var usesPenalties: Bool { repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0 }

  /// Throws `EngineError.invalidSamplingParams` naming the first bad field.
  public func validate() throws {
    func check(_ ok: Bool, _ field: String, _ reason: String) throws {
      if !ok { throw EngineError.invalidSamplingParams(field: field, reason: reason) }
    }
    try check(temperature >= 0 && temperature.isFinite, "temperature", "must be ≥ 0, got \(temperature)")
    try check(topP > 0 && topP <= 1, "top_p", "must be in (0, 1], got \(topP)")
    try check(topK >= -1, "top_k", "must be -1, 0 (off) or positive, got \(topK)")
    try check(minP >= 0 && minP <= 1, "min_p", "must be in [0, 1], got \(minP)")
    try check(maxTokens >= 1, "max_tokens", "must be ≥ 1, got \(maxTokens)")
    try check(minTokens >= 0 && minTokens <= maxTokens, "min_tokens", "must be in [0, max_tokens], got \(minTokens)")
    try check(n >= 1, "n", "must be ≥ 1, got \(n)")
    try check(!stop.contains(""), "stop", "stop strings must not be empty")
    try check(logprobs.map { $0 >= 0 && $0 <= 20 } ?? true, "logprobs", "must be in 0...20")
    try check(repetitionPenalty > 0 && repetitionPenalty.isFinite, "repetition_penalty", "must be > 0")
    try check(abs(presencePenalty) <= 2, "presence_penalty", "must be in [-2, 2]")
    try check(abs(frequencyPenalty) <= 2, "frequency_penalty", "must be in [-2, 2]")
  }
}
