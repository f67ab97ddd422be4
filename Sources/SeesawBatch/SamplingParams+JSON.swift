import SeesawEngine

extension SamplingParams {
  /// Sets the sampling fields a request line carries, with vLLM/OpenAI names: temperature, top_p, top_k, min_p,
  /// seed, max_tokens, min_tokens, n, stop, stop_token_ids, ignore_eos, repetition_penalty, presence_penalty,
  /// frequency_penalty. `logprobs` differs between formats, so callers read it. Other fields are left alone.
  public mutating func apply(_ fields: JSONFields) throws {
    if let v = try fields.float("temperature") { temperature = v }
    if let v = try fields.float("top_p") { topP = v }
    if let v = try fields.integer("top_k") { topK = v }
    if let v = try fields.float("min_p") { minP = v }
    if let v = try fields.integer("seed") { seed = UInt64(truncatingIfNeeded: v) }
    if let v = try fields.integer("max_tokens") { maxTokens = v }
    if let v = try fields.integer("min_tokens") { minTokens = v }
    if let v = try fields.integer("n") { n = v }
    if let v = try fields.float("repetition_penalty") { repetitionPenalty = v }
    if let v = try fields.float("presence_penalty") { presencePenalty = v }
    if let v = try fields.float("frequency_penalty") { frequencyPenalty = v }
    if let v = try fields.bool("ignore_eos") { ignoreEOS = v }
    if let v = try fields.strings("stop") { stop = v }
    if let v = try fields.integers("stop_token_ids") { stopTokenIDs = v.map { Int32(truncatingIfNeeded: $0) } }
  }

  /// `validate()` with its error as a `FieldError` naming the field.
  public func validateFields() throws(FieldError) {
    do { try validate() } catch {
      if case .invalidSamplingParams(let field, let reason)? = error as? EngineError {
        throw FieldError(field: field, reason: reason)
      }
      throw FieldError(field: "(sampling)", reason: "\(error)")
    }
  }
}
