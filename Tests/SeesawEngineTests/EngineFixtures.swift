import Foundation
import SeesawModel
import SeesawTokenizer

@testable import SeesawEngine

/// Fixtures shared by the engine tests: the SmolLM2 goldens and model, the tiny models.
enum EngineFixtures {
  static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  static let smolLM2Path = tests.deletingLastPathComponent().appendingPathComponent(
    ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  ).path

  static func json(_ name: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: tests.appendingPathComponent("Fixtures/\(name)")))
      as! [String: Any]
  }

  static func ids(_ value: Any?) -> [Int32] { (value as! [NSNumber]).map(\.int32Value) }

  /// (prompt ids, transformers' 40 greedy ids) of the SmolLM2 goldens.
  static func smolLM2Goldens() throws -> [(prompt: [Int32], generated: [Int32])] {
    (try json("smollm2-greedy.json")["prompts"] as! [[String: Any]]).map { (ids($0["prompt_ids"]), ids($0["generated_ids"])) }
  }

  nonisolated(unsafe) static var smolLM2Files: ModelFiles?
  nonisolated(unsafe) static var smolLM2Model: LlamaModel?
  static let lock = NSLock()

  /// SmolLM2 loaded once for all tests (weights dequantized: ~0.5 GB).
  static func smolLM2() throws -> (ModelFiles, LlamaModel) {
    lock.lock()
    defer { lock.unlock() }
    if let f = smolLM2Files, let m = smolLM2Model { return (f, m) }
    let files = try ModelFiles(path: smolLM2Path)
    let model = try files.loadModel()
    smolLM2Files = files
    smolLM2Model = model
    return (files, model)
  }

  static func smolLM2Tokenizer() throws -> Tokenizer {
    let gguf = try smolLM2().0.gguf!
    return try Tokenizer(gguf: GGUFVocabulary(metadata: gguf.metadata.mapValues(\.plain), path: gguf.path), path: gguf.path)
  }

  /// An engine over SmolLM2 (a fresh KV cache; the model is shared, so engines must not run concurrently).
  static func smolLM2Engine(_ config: EngineConfig, tokenizer: Bool = false) throws -> LLMEngine {
    let (_, model) = try smolLM2()
    return try LLMEngine(model: model, tokenizer: tokenizer ? try smolLM2Tokenizer() : nil, config: config)
  }

  static func config(
    numBlocks: Int, maxBatchedTokens: Int = 2048, chunk: Int? = nil, chunked: Bool = true, maxSeqs: Int = 256
  ) -> EngineConfig {
    var c = EngineConfig()
    c.numBlocks = numBlocks
    c.maxNumBatchedTokens = maxBatchedTokens
    c.chunkSize = chunk
    c.enableChunkedPrefill = chunked
    c.maxNumSeqs = maxSeqs
    return c
  }
}
