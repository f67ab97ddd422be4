import Foundation
import Testing

@testable import SeesawTokenizer

/// Malformed tokenizer files end in a `TokenizerError` naming the file and the field.
@Suite("Malformed tokenizer files")
struct TokenizerErrorTests {
  static func directory(tokenizerJSON: String, config: String? = nil) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(tokenizerJSON.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
    if let config { try Data(config.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json")) }
    return dir.path
  }

  static func expectError(_ dir: String, field: String) {
    do {
      _ = try Tokenizer(directory: dir)
      Issue.record("no error for \(dir)")
    } catch let error as TokenizerError {
      let message = error.errorDescription!
      #expect(message.contains(dir) && message.contains(field), "\(message)")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  static let minimalModel = #""model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#

  @Test("a minimal byte-less BPE tokenizer.json loads and merges")
  func minimal() throws {
    let tokenizer = try Tokenizer(directory: try Self.directory(tokenizerJSON: "{\(Self.minimalModel)}"))
    #expect(tokenizer.encode("abab") == [2, 2])
    #expect(tokenizer.decode([2, 0]) == "aba")
  }

  @Test("missing files, broken JSON and wrong field types name the file and field")
  func malformed() throws {
    Self.expectError("/nonexistent/tokenizer-dir", field: "tokenizer.json")
    Self.expectError(try Self.directory(tokenizerJSON: "{\"model\": "), field: "(root)")
    Self.expectError(try Self.directory(tokenizerJSON: "{}"), field: "model")
    Self.expectError(try Self.directory(tokenizerJSON: #"{"model": {"type": "BPE"}}"#), field: "model.vocab")
    Self.expectError(
      try Self.directory(tokenizerJSON: #"{"model": {"type": "BPE", "vocab": {"a": -3}}}"#), field: "model.vocab[a]")
    Self.expectError(
      try Self.directory(tokenizerJSON: #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}}"#),
      field: "model.merges[0]")
    Self.expectError(
      try Self.directory(tokenizerJSON: #"{"model": {"type": "BPE", "vocab": {}}, "added_tokens": [{"id": 1}]}"#),
      field: "added_tokens[0]")
    // Found by fuzzing: a negative added-token id indexed the vocabulary out of bounds; a huge one wrapped.
    for id in ["-4", "4294967297"] {
      Self.expectError(
        try Self.directory(
          tokenizerJSON: #"{"model": {"type": "BPE", "vocab": {"a": 0}}, "added_tokens": [{"id": "#
            + id + #", "content": "<s>", "special": true}]}"#),
        field: "added_tokens[0].id")
    }
  }

  @Test("components the engine does not implement are named")
  func unsupported() throws {
    Self.expectError(
      try Self.directory(tokenizerJSON: #"{"model": {"type": "Unigram", "vocab": []}}"#), field: "model.type")
    Self.expectError(
      try Self.directory(tokenizerJSON: "{\(Self.minimalModel), \"normalizer\": {\"type\": \"BertNormalizer\"}}"),
      field: "normalizer")
    Self.expectError(
      try Self.directory(tokenizerJSON: "{\(Self.minimalModel), \"pre_tokenizer\": {\"type\": \"Whitespace\"}}"),
      field: "pre_tokenizer")
    Self.expectError(
      try Self.directory(tokenizerJSON: "{\(Self.minimalModel), \"decoder\": {\"type\": \"WordPiece\"}}"),
      field: "decoder")
  }

  @Test("a GGUF vocabulary with missing or inconsistent fields is rejected with the key")
  func ggufVocabulary() {
    func expect(_ metadata: [String: Any], field: String) {
      do {
        _ = try GGUFVocabulary(metadata: metadata, path: "model.gguf")
        Issue.record("no error for \(field)")
      } catch let error as TokenizerError {
        #expect(error.errorDescription!.contains("model.gguf") && error.errorDescription!.contains(field))
      } catch {
        Issue.record("unexpected error \(error)")
      }
    }
    expect([:], field: "tokenizer.ggml.model")
    expect(["tokenizer.ggml.model": "gpt2"], field: "tokenizer.ggml.tokens")
    expect(["tokenizer.ggml.model": 3], field: "tokenizer.ggml.model")
    expect(
      ["tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": ["a", "b"], "tokenizer.ggml.scores": [0.0]],
      field: "tokenizer.ggml.scores")
    expect(
      ["tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": ["a"], "tokenizer.ggml.eos_token_id": 5],
      field: "tokenizer.ggml.eos_token_id")
  }
}
