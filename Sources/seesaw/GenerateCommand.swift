import ArgumentParser
import Foundation
import SeesawModel

/// `seesaw generate`: greedy continuation of prompts given as token ids.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate", abstract: "Generate tokens greedily from prompts given as token ids.")

  @OptionGroup var modelOptions: ModelOptions

  @Option(
    name: .customLong("prompt-ids"),
    help: "Comma-separated prompt token ids; repeat the option for several prompts (batched together).")
  var promptIDs: [String]

  @Option(name: .customLong("max-tokens"), help: "Tokens to generate per prompt.")
  var maxTokens = 32

  @Flag(help: "Print one JSON object per prompt: {\"prompt_ids\": [...], \"generated_ids\": [...]}.")
  var json = false

  func validate() throws {
    guard !promptIDs.isEmpty else { throw ValidationError("give at least one --prompt-ids") }
    guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0") }
  }

  func run() throws {
    let prompts = try promptIDs.enumerated().map { i, text in try Self.parseIDs(text, index: i) }
    do {
      let (files, model) = try modelOptions.load()
      for (i, prompt) in prompts.enumerated() {
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= files.config.vocabSize }) {
          throw ValidationError("--prompt-ids #\(i + 1): token id \(bad) outside vocabulary 0..<\(files.config.vocabSize)")
        }
      }
      let generator = GreedyGenerator(
        model: model,
        cache: PagedKVCache(
          config: files.config,
          numBlocks: prompts.map { ($0.count + maxTokens + 15) / 16 }.reduce(0, +), blockSize: 16))
      let outputs = generator.generate(prompts: prompts, maxTokens: maxTokens)
      for (prompt, output) in zip(prompts, outputs) {
        if json {
          let object: [String: Any] = ["prompt_ids": prompt.map(Int.init), "generated_ids": output.map(Int.init)]
          let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
          print(String(decoding: data, as: UTF8.self))
        } else {
          print(output.map(String.init).joined(separator: ","))
        }
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }

  /// "1, 2,3" -> [1, 2, 3], with an error naming the option and the bad item.
  static func parseIDs(_ text: String, index: Int) throws -> [Int32] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !items.isEmpty else { throw ValidationError("--prompt-ids #\(index + 1) is empty") }
    return try items.map { item in
      guard let id = Int32(item) else {
        throw ValidationError("--prompt-ids #\(index + 1): '\(item)' is not a token id")
      }
      return id
    }
  }
}
