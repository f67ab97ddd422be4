/// Why a sequence stopped, in OpenAI's and vLLM's words.
public enum FinishReason: String, Sendable, Codable {
  /// An end-of-sequence token, a stop token id or a stop string.
  case stop
  /// max_tokens reached.
  case length
}

/// One sequence the scheduler tracks: a prompt and what it has generated, and how much of it is in the KV cache.
///
///     allTokens   p0 p1 p2 p3 p4 | o0 o1 o2
///     computed    ---------------------  (K/V in cache: numComputed = 7)
///     next step   computes o2 (position 7) and samples o3
///
/// A preempted sequence drops its blocks and sets numComputed to 0: its prompt and output are recomputed as one
/// longer prompt, and generation continues where it was.
final class SequenceState {
  let id: Int
  let requestIndex: Int
  /// Which of the request's n samples this is.
  let sampleIndex: Int
  let promptTokenIDs: [Int32]
  var outputTokenIDs: [Int32] = []
  var logprobs: [Sampler.Logprobs] = []
  let params: SamplingParams
  let seed: UInt64
  /// Device blocks (the decode cache; for a Seesaw prompt in progress, the prefill cache).
  var blockTable: [Int32] = []
  /// Host-buffer blocks while the sequence's K/V is there (Seesaw's second tier).
  var hostTable: [Int32] = []
  var numComputed = 0
  var finishReason: FinishReason?
  /// Sibling sequences to create when the prompt is done (n > 1); only on the first sample.
  var pendingForks: [SequenceState] = []

  init(id: Int, requestIndex: Int, sampleIndex: Int, promptTokenIDs: [Int32], params: SamplingParams, seed: UInt64) {
    self.id = id
    self.requestIndex = requestIndex
    self.sampleIndex = sampleIndex
    self.promptTokenIDs = promptTokenIDs
    self.params = params
    self.seed = seed
  }

  var numTokens: Int { promptTokenIDs.count + outputTokenIDs.count }
  /// Positions still to compute before the next token can be sampled.
  var numUncomputed: Int { numTokens - numComputed }
  var isFinished: Bool { finishReason != nil }

  func token(at position: Int) -> Int32 {
    position < promptTokenIDs.count ? promptTokenIDs[position] : outputTokenIDs[position - promptTokenIDs.count]
  }
}
