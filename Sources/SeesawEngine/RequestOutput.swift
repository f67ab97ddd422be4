import SeesawTokenizer

/// What a request asks for: text, token ids, or chat messages (rendered with the tokenizer's chat template).
public enum Prompt: Sendable {
  case text(String)
  case tokens([Int32])
  case messages([ChatMessage])
}

/// One of a request's n completions.
public struct CompletionOutput: Sendable {
  public var index: Int
  public var tokenIDs: [Int32]
  public var text: String
  public var finishReason: FinishReason?
  /// Per generated token, when the request asked for logprobs.
  public var logprobs: [Sampler.Logprobs]
}

/// A finished request, as `LLMEngine.generate` returns it (in input order).
public struct RequestOutput: Sendable {
  /// Position of the request in the order it was added.
  public var index: Int
  public var promptTokenIDs: [Int32]
  public var outputs: [CompletionOutput]
  public var finished: Bool
}
