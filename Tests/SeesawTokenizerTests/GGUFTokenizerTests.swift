import Foundation
import SeesawModel
import Testing

@testable import SeesawTokenizer

/// Paths of fixtures and of what set-up caches.
enum TokenizerFixtures {
  static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  static let repository = tests.deletingLastPathComponent()
  static func fixture(_ name: String) -> URL { tests.appendingPathComponent("Fixtures").appendingPathComponent(name) }
  static func cache(_ name: String) -> String { repository.appendingPathComponent(".cache").appendingPathComponent(name).path }
  static let smolLM2GGUF = cache("models/SmolLM2-135M-Instruct.Q4_1.gguf")

  static func json(_ url: URL) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) }

  /// The tokenizer embedded in the SmolLM2 GGUF.
  static func smolLM2FromGGUF() throws -> Tokenizer { try fromGGUF(smolLM2GGUF) }

  /// Mistral v1's SentencePiece vocabulary as llama.cpp's converter writes it (set-up makes the file).
  static func mistralFromGGUF() throws -> Tokenizer { try fromGGUF(cache("tokenizers/mistral-v1.gguf")) }

  static func fromGGUF(_ path: String) throws -> Tokenizer {
    let gguf = try GGUFFile(path: path)
    return try Tokenizer(gguf: GGUFVocabulary(metadata: gguf.metadata.mapValues(\.plain), path: gguf.path), path: gguf.path)
  }
}

@Suite("GGUF-embedded tokenizer")
struct GGUFTokenizerTests {
  @Test("SmolLM2's embedded tokenizer encodes the model goldens' prompts as transformers did")
  func smolLM2Prompts() throws {
    let tokenizer = try TokenizerFixtures.smolLM2FromGGUF()
    let golden = try TokenizerFixtures.json(TokenizerFixtures.fixture("smollm2-greedy.json")) as! [String: Any]
    for prompt in golden["prompts"] as! [[String: Any]] {
      let text = prompt["prompt"] as! String
      let expected = (prompt["prompt_ids"] as! [NSNumber]).map(\.int32Value)
      #expect(tokenizer.encode(text) == expected, "\(text.prefix(40))")
      #expect(tokenizer.decode(expected) == text)
      let generated = (prompt["generated_ids"] as! [NSNumber]).map(\.int32Value)
      #expect(tokenizer.decode(generated) == prompt["generated_text"] as! String)
    }
  }
}
