/// The tokenizer a GGUF file embeds (`tokenizer.ggml.*` metadata), in plain values so that this module needs no
/// GGUF reader: `GGUFVocabulary(metadata:)` takes the metadata as Swift values (String, Int, Double, Bool, [Any]).
public struct GGUFVocabulary: Sendable {
  /// "gpt2" (byte-level BPE with merges) or "llama" (SentencePiece BPE with scores).
  public var model: String
  /// llama.cpp's pre-tokenizer name ("smollm", "llama-bpe", "qwen2", "default", ...).
  public var pre: String?
  public var tokens: [String]
  public var scores: [Float]?
  /// llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
  public var tokenTypes: [Int]?
  /// "a b" merge rules, best first (gpt2 model).
  public var merges: [String]?
  public var bosID: Int?
  public var eosID: Int?
  public var unknownID: Int?
  public var addBOS: Bool?
  public var addEOS: Bool?
  public var addSpacePrefix: Bool?
  public var chatTemplate: String?

  /// Reads the `tokenizer.*` keys; `path` names the file in errors.
  public init(metadata: [String: Any], path: String) throws {
    func field<T>(_ key: String, as type: T.Type) throws -> T? {
      guard let value = metadata[key] else { return nil }
      guard let typed = value as? T else {
        throw TokenizerError.invalidFile(path: path, field: key, reason: "has the wrong type (\(Swift.type(of: value)))")
      }
      return typed
    }
    guard let model = try field("tokenizer.ggml.model", as: String.self) else {
      throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.model", reason: "missing: no embedded tokenizer")
    }
    self.model = model
    pre = try field("tokenizer.ggml.pre", as: String.self)
    guard let tokens = try field("tokenizer.ggml.tokens", as: [Any].self)?.compactMap({ $0 as? String }), !tokens.isEmpty
    else {
      throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.tokens", reason: "missing or not strings")
    }
    self.tokens = tokens
    scores = try field("tokenizer.ggml.scores", as: [Any].self)?.map { Float(($0 as? Double) ?? 0) }
    tokenTypes = try field("tokenizer.ggml.token_type", as: [Any].self)?.map { ($0 as? Int) ?? 1 }
    merges = try field("tokenizer.ggml.merges", as: [Any].self)?.compactMap { $0 as? String }
    bosID = try field("tokenizer.ggml.bos_token_id", as: Int.self)
    eosID = try field("tokenizer.ggml.eos_token_id", as: Int.self)
    unknownID = try field("tokenizer.ggml.unknown_token_id", as: Int.self)
    addBOS = try field("tokenizer.ggml.add_bos_token", as: Bool.self)
    addEOS = try field("tokenizer.ggml.add_eos_token", as: Bool.self)
    addSpacePrefix = try field("tokenizer.ggml.add_space_prefix", as: Bool.self)
    chatTemplate = try field("tokenizer.chat_template", as: String.self)
    for (key, count) in [("tokenizer.ggml.scores", scores?.count), ("tokenizer.ggml.token_type", tokenTypes?.count)] {
      if let count, count != tokens.count {
        throw TokenizerError.invalidFile(path: path, field: key, reason: "\(count) entries for \(tokens.count) tokens")
      }
    }
    for (key, id) in [("bos", bosID), ("eos", eosID), ("unknown", unknownID)] {
      if let id, !(0..<tokens.count).contains(id) {
        throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.\(key)_token_id", reason: "\(id) outside the vocabulary")
      }
    }
  }
}
