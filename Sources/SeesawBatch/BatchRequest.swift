import Foundation
import SeesawEngine
import SeesawTokenizer

/// One line of an OpenAI Batch API input file:
///
///     {"custom_id": "r1", "method": "POST", "url": "/v1/completions" | "/v1/chat/completions", "body": {...}}
///
/// `parse(line:)` is pure (no engine, no tokenizer) and throws a `BatchError` for any bytes that are not such a
/// request. Body fields follow OpenAI, with vLLM's extensions (top_k, min_p, ignore_eos, repetition_penalty,
/// min_tokens, stop_token_ids); unknown fields are ignored, as vLLM ignores them; `model` is read but not checked.
public struct BatchRequest: Sendable {
  public enum Endpoint: String, Sendable {
    case completions = "/v1/completions"
    case chatCompletions = "/v1/chat/completions"
  }

  public var customID: String
  public var endpoint: Endpoint
  /// The body's `model`, as given (the engine serves its one model whatever this says).
  public var model: String?
  /// Completions: one entry per prompt (a list of prompts gets n choices each); chat: one `.messages`.
  public var prompts: [Prompt]
  /// Sampling fields; OpenAI's defaults (temperature 1, top_p 1, n 1) where the body is silent.
  public var params: SamplingParams
  /// max_tokens (or, for chat, max_completion_tokens) as given; nil: 16 for completions, the rest of the context
  /// for chat (as vLLM does).
  public var maxTokens: Int?

  public static let defaultCompletionMaxTokens = 16
  /// Choices per prompt, at most (OpenAI's limit; it also bounds what one line can ask the engine to hold).
  public static let maxN = 128
  /// Roles a chat message may have.
  public static let roles: Set<String> = ["system", "user", "assistant"]

  public init(
    customID: String, endpoint: Endpoint, model: String? = nil, prompts: [Prompt], params: SamplingParams,
    maxTokens: Int? = nil
  ) {
    self.customID = customID
    self.endpoint = endpoint
    self.model = model
    self.prompts = prompts
    self.params = params
    self.maxTokens = maxTokens
  }

  /// Reads one input line (without its newline).
  public static func parse(line: Data) throws(BatchError) -> BatchRequest {
    guard let object = JSONFields.parse(line) else { throw BatchError(.invalidJSON, "the line is not a JSON object") }
    guard let rawID = object["custom_id"], !(rawID is NSNull) else {
      throw BatchError(.missingCustomID, "custom_id is missing")
    }
    guard let customID = rawID as? String else { throw BatchError(.missingCustomID, "custom_id must be a string") }
    let method = object["method"] as? String
    guard method == "POST" else {
      throw BatchError(
        .invalidMethod, "method must be POST, not \(method.map { "'\($0)'" } ?? "missing")", customID: customID)
    }
    let url = object["url"] as? String
    guard let endpoint = url.flatMap(Endpoint.init(rawValue:)) else {
      throw BatchError(
        .invalidURL,
        "url must be /v1/completions or /v1/chat/completions, not \(url.map { "'\($0)'" } ?? "missing")",
        customID: customID)
    }
    guard let body = object["body"] as? [String: Any] else {
      throw BatchError(
        .missingBody, object["body"] == nil ? "body is missing" : "body must be an object", customID: customID)
    }
    do {
      return try parseBody(JSONFields(body), customID: customID, endpoint: endpoint)
    } catch let error as FieldError {
      throw BatchError(error, customID: customID)
    } catch {
      throw BatchError(.invalidField, "\(error)", customID: customID)
    }
  }

  static func parseBody(_ fields: JSONFields, customID: String, endpoint: Endpoint) throws -> BatchRequest {
    let model = try fields.string("model")
    var params = SamplingParams()
    try params.apply(fields)
    var maxTokens = try fields.integer("max_tokens")
    let prompts: [Prompt]
    switch endpoint {
    case .completions:
      prompts = try completionPrompts(fields)
      params.logprobs = try fields.integer("logprobs")
    case .chatCompletions:
      prompts = [.messages(try messages(fields))]
      if let m = try fields.integer("max_completion_tokens") { maxTokens = m }
      let top = try fields.integer("top_logprobs")
      if try fields.bool("logprobs") == true {
        params.logprobs = top ?? 0
      } else if top != nil {
        throw FieldError(field: "top_logprobs", reason: "needs 'logprobs': true")
      }
      if let top, !(0...20).contains(top) { throw FieldError(field: "top_logprobs", reason: "must be in 0...20") }
    }
    params.maxTokens = maxTokens ?? defaultCompletionMaxTokens
    try params.validateFields()
    try rejectUnsupported(fields, n: params.n)
    guard params.n <= maxN else { throw FieldError(field: "n", reason: "must be at most \(maxN) (OpenAI's limit)") }
    return BatchRequest(
      customID: customID, endpoint: endpoint, model: model, prompts: prompts, params: params, maxTokens: maxTokens)
  }

  /// OpenAI fields the engine cannot honour are errors when they ask for something (ignoring them would change
  /// the answer silently); at their defaults they pass.
  static func rejectUnsupported(_ fields: JSONFields, n: Int) throws {
    func unsupported(_ field: String, _ what: String) -> FieldError {
      FieldError(field: field, reason: "\(what) is not supported")
    }
    if try fields.bool("echo") == true { throw unsupported("echo", "echoing the prompt") }
    if let suffix = try fields.string("suffix"), !suffix.isEmpty { throw unsupported("suffix", "a suffix") }
    if let bestOf = try fields.integer("best_of"), bestOf != n { throw unsupported("best_of", "best_of other than n") }
    if let bias = fields.value("logit_bias") as? [String: Any], !bias.isEmpty {
      throw unsupported("logit_bias", "a logit bias")
    }
    for key in ["tools", "functions"] {
      if let list = fields.value(key) as? [Any], !list.isEmpty { throw unsupported(key, "tool calling") }
    }
    if let format = fields.value("response_format") as? [String: Any], format["type"] as? String != "text" {
      throw unsupported("response_format", "a response format other than text")
    }
  }

  /// `prompt`: a string, a list of strings, a list of token ids, or a list of lists of token ids.
  static func completionPrompts(_ fields: JSONFields) throws -> [Prompt] {
    let kinds = "a string, a list of strings, a list of token ids or a list of lists of token ids"
    guard let value = fields.value("prompt") else { throw FieldError(field: "prompt", reason: "is required") }
    if let text = value as? String { return [.text(text)] }
    guard let list = value as? [Any] else { throw FieldError(field: "prompt", reason: "must be \(kinds)") }
    guard !list.isEmpty else { throw FieldError(field: "prompt", reason: "must not be empty") }
    if let texts = list.map({ $0 as? String }) as? [String] { return texts.map { .text($0) } }
    func tokens(_ v: Any) -> [Int32]? {
      guard let ids = JSONFields.integers(v), !ids.isEmpty else { return nil }
      let narrow = ids.compactMap { Int32(exactly: $0) }
      return narrow.count == ids.count ? narrow : nil
    }
    if let ids = tokens(list) { return [.tokens(ids)] }
    if let lists = list.map(tokens) as? [[Int32]] { return lists.map { .tokens($0) } }
    throw FieldError(field: "prompt", reason: "must be \(kinds) (token ids are 32-bit integers)")
  }

  /// `messages`: [{"role", "content"}], content a string or a list of {"type": "text", "text"} parts (joined with
  /// newlines, as vLLM joins them).
  public static func messages(_ fields: JSONFields) throws -> [ChatMessage] {
    guard let value = fields.value("messages") else { throw FieldError(field: "messages", reason: "is required") }
    guard let list = value as? [Any], !list.isEmpty else {
      throw FieldError(field: "messages", reason: "must be a non-empty list of messages")
    }
    return try list.enumerated().map { i, item in
      guard let object = item as? [String: Any] else {
        throw FieldError(field: "messages[\(i)]", reason: "must be an object")
      }
      let message = JSONFields(object, prefix: "messages[\(i)].")
      guard let role = try message.string("role"), roles.contains(role) else {
        throw FieldError(field: "messages[\(i)].role", reason: "must be one of system, user, assistant")
      }
      return ChatMessage(role: role, content: try content(message, at: "messages[\(i)].content"))
    }
  }

  static func content(_ message: JSONFields, at field: String) throws -> String {
    let reason = "must be a string or a list of text parts"
    guard let value = message.value("content") else { throw FieldError(field: field, reason: reason) }
    if let text = value as? String { return text }
    guard let parts = value as? [Any] else { throw FieldError(field: field, reason: reason) }
    return try parts.enumerated().map { j, item in
      guard let part = item as? [String: Any] else {
        throw FieldError(field: "\(field)[\(j)]", reason: "must be an object {\"type\": \"text\", \"text\": ...}")
      }
      let type = part["type"] as? String
      guard type == "text" else {
        throw FieldError(
          field: "\(field)[\(j)].type", reason: "must be 'text'\(type.map { " (not '\($0)')" } ?? "")")
      }
      guard let text = part["text"] as? String else {
        throw FieldError(field: "\(field)[\(j)].text", reason: "must be a string")
      }
      return text
    }.joined(separator: "\n")
  }

  /// The sampling parameters for a prompt of `promptLength` tokens: max_tokens resolved, and an error when the
  /// prompt and the completion do not fit the model's context. `maxSequenceTokens` (the KV cache in tokens) bounds
  /// chat's default max_tokens too.
  public func params(promptLength: Int, maxContext: Int, maxSequenceTokens: Int? = nil) throws(BatchError)
    -> SamplingParams
  {
    var p = params
    let requested = maxTokens ?? (endpoint == .completions ? Self.defaultCompletionMaxTokens : nil)
    let limit = min(maxContext, maxSequenceTokens ?? maxContext)
    if let requested {
      p.maxTokens = requested
      guard promptLength + requested <= maxContext else {
        throw BatchError(
          .contextLengthExceeded,
          "This model's maximum context length is \(maxContext) tokens. However, you requested "
            + "\(promptLength + requested) tokens (\(promptLength) in the prompt, \(requested) in the completion).",
          param: endpoint == .completions ? "prompt" : "messages", customID: customID)
      }
    } else {
      guard promptLength < limit else {
        throw BatchError(
          .contextLengthExceeded,
          "This model's maximum context length is \(limit) tokens. However, your messages resulted in "
            + "\(promptLength) tokens.", param: "messages", customID: customID)
      }
      p.maxTokens = limit - promptLength
      p.minTokens = min(p.minTokens, p.maxTokens)
    }
    return p
  }
}
