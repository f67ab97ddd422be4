import ArgumentParser
import Foundation
import SeesawModel
import SeesawTensor

/// `seesaw perplexity`: the mean log-likelihood and perplexity of a text, the measure of a forward pass's
/// numerical drift (compare with Tests/Fixtures/loglik/smollm2-golden.json, transformers' float32).
struct PerplexityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "perplexity",
    abstract: "Score a text: mean log-likelihood per token and perplexity, with the time it took.",
    discussion: """
      The text is tokenized with the model's tokenizer as is (special tokens as the tokenizer adds them; SmolLM2
      adds none) and scored as one sequence from position 0: every token after the first is scored given all
      before it. --json adds the per-token log-likelihoods.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions

  @Option(name: .customLong("text-file"), help: "A UTF-8 text file to tokenize and score.")
  var textFile: String?

  @Option(
    name: .customLong("token-ids-file"),
    help: "A file of token ids separated by commas or whitespace (a JSON array works too), scored as they are.")
  var tokenIDsFile: String?

  @Option(
    help:
      "A golden JSON of tools/make_loglik_golden.py: score its token_ids and print the drift from its log-likelihoods.")
  var reference: String?

  @Option(name: .customLong("max-tokens"), help: "Score only the first N tokens (default: all).")
  var maxTokens: Int?

  @Option(help: "Tokens per forward pass; only [chunk, vocab] logits exist at a time.")
  var chunk = 128

  @Option(
    name: .customLong("kv-cache-dtype"), help: "How the KV cache stores K and V: f32 (default, or auto) or bf16.")
  var kvCacheDType = "f32"

  @Flag(help: "Print one JSON object (with per-token log-likelihoods) instead of text.")
  var json = false

  func validate() throws {
    guard [textFile, tokenIDsFile, reference].compactMap({ $0 }).count == 1 else {
      throw ValidationError("give exactly one of --text-file, --token-ids-file and --reference")
    }
    if let maxTokens, maxTokens < 2 { throw ValidationError("--max-tokens must be at least 2") }
    guard chunk > 0 else { throw ValidationError("--chunk must be positive") }
    _ = try EngineOptions.parseKVCacheDType(kvCacheDType)
  }

  func run() throws {
    do {
      let (files, model) = try modelOptions.load()
      let golden = try reference.map(ReferenceScores.init(path:))
      var tokens = try golden?.tokenIDs ?? readTokens(files: files)
      if let maxTokens { tokens = Array(tokens.prefix(maxTokens)) }
      try check(tokens, config: files.config)

      let start = DispatchTime.now().uptimeNanoseconds
      let result = LogLikelihood(
        model: model, tokens: tokens, chunkSize: chunk, kvCacheDType: try EngineOptions.parseKVCacheDType(kvCacheDType))
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      let tokensPerSecond = Double(tokens.count) / seconds

      if json {
        let object: [String: Any] = [
          "model": files.path, "num_tokens": tokens.count, "num_scored": result.numScored, "chunk": chunk,
          "kv_cache_dtype": kvCacheDType,
          "mean_log_likelihood": result.mean, "perplexity": result.perplexity, "seconds": seconds,
          "tokens_per_second": tokensPerSecond, "log_likelihoods": result.perToken,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
      } else {
        print("model: \(files.path)")
        print("tokens: \(tokens.count) (\(result.numScored) scored), chunk \(chunk)")
        print(String(format: "mean log-likelihood: %.6f", result.mean))
        print(String(format: "perplexity: %.4f", result.perplexity))
        print(String(format: "time: %.2f s (%.1f tokens/s)", seconds, tokensPerSecond))
        if let golden {
          let deviations = zip(result.perToken, golden.logLikelihoods).map { abs($0 - $1) }
          let referenceMean = golden.logLikelihoods.prefix(result.numScored).reduce(0, +) / Double(result.numScored)
          print(
            String(
              format:
                "drift vs reference (precision %@, KV cache %@): mean log-likelihood %+.6f (reference %.6f), max per-token %.6f",
              modelOptions.precision.rawValue, kvCacheDType, result.mean - referenceMean, referenceMean,
              deviations.max() ?? 0))
        }
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }

  /// The ids to score: the tokenized --text-file, or --token-ids-file parsed.
  func readTokens(files: ModelFiles) throws -> [Int32] {
    let (option, path) = textFile.map { ("--text-file", $0) } ?? ("--token-ids-file", tokenIDsFile!)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(option) \(path): no such file or not readable")
    }
    let content = String(decoding: data, as: UTF8.self)
    if textFile != nil {
      let tokenizer = try tokenizerOptions.load(model: files, modelPath: files.path)
      return tokenizer.encode(content, addSpecialTokens: true)
    }
    return try Self.parseIDs(content, path: path)
  }

  /// "1, 2\n3" or "[1, 2, 3]" -> [1, 2, 3], with an error naming the file and the bad item.
  static func parseIDs(_ content: String, path: String) throws -> [Int32] {
    let separators = CharacterSet(charactersIn: ",[]").union(.whitespacesAndNewlines)
    return try content.components(separatedBy: separators).filter { !$0.isEmpty }.map { item in
      guard let id = Int32(item) else { throw ValidationError("--token-ids-file \(path): '\(item)' is not a token id") }
      return id
    }
  }

  /// Enough tokens, each in the vocabulary, all within the model's context.
  func check(_ tokens: [Int32], config: ModelConfig) throws {
    guard tokens.count >= 2 else { throw ValidationError("need at least 2 tokens to score, got \(tokens.count)") }
    if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
      throw ValidationError("token id \(bad) outside vocabulary 0..<\(config.vocabSize)")
    }
    guard tokens.count <= config.maxPositionEmbeddings else {
      throw ValidationError(
        "\(tokens.count) tokens exceed the model's context of \(config.maxPositionEmbeddings); pass --max-tokens")
    }
  }
}

/// A golden file of tools/make_loglik_golden.py: token ids and the reference's per-token log-likelihoods.
struct ReferenceScores {
  var tokenIDs: [Int32]
  var logLikelihoods: [Double]

  init(path: String) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw ValidationError("--reference \(path): cannot read the file (\(error.localizedDescription))")
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let ids = object["token_ids"] as? [Int], let scores = object["log_likelihoods"] as? [Double]
    else {
      throw ValidationError("--reference \(path): expected a JSON object with token_ids and log_likelihoods")
    }
    tokenIDs = ids.map { Int32($0) }
    logLikelihoods = scores
  }
}
