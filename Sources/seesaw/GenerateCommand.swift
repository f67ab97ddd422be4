import ArgumentParser
import Foundation
import SeesawModel
import SeesawTokenizer

/// `seesaw generate`: greedy continuation of text prompts (optionally as chat messages) or of token ids.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate", abstract: "Generate text greedily from prompts; several prompts run as one batch.")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions

  @Option(help: "A text prompt; repeat for several prompts.")
  var prompt: [String] = []

  @Flag(help: "Treat each --prompt as a user message and apply the model's chat template.")
  var chat = false

  @Option(help: "With --chat: a system message put before each prompt.")
  var system: String?

  @Option(
    name: .customLong("prompt-ids"),
    help: "Comma-separated prompt token ids; repeat the option for several prompts.")
  var promptIDs: [String] = []

  @Option(name: .customLong("max-tokens"), help: "Most tokens to generate per prompt (generation also stops at EOS).")
  var maxTokens = 64

  @Flag(name: .customLong("ignore-eos"), help: "Do not stop at the end-of-sequence token.")
  var ignoreEOS = false

  @Flag(help: "Print one JSON object per prompt: {\"prompt_ids\", \"generated_ids\", \"text\"}.")
  var json = false

  func validate() throws {
    guard prompt.isEmpty != promptIDs.isEmpty else {
      throw ValidationError("give --prompt (text) or --prompt-ids, not both and not neither")
    }
    guard !chat || !prompt.isEmpty else { throw ValidationError("--chat needs --prompt") }
    guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0") }
  }

  func run() throws {
    let idPrompts = try promptIDs.enumerated().map { i, text in try Self.parseIDs(text, index: i) }
    do {
      let modelPath = try modelOptions.resolvedPath()
      let (files, model) = try modelOptions.load()
      // Text needs a tokenizer; id prompts print text too when one is available.
      let tokenizer: Tokenizer? = prompt.isEmpty ? try? tokenizerOptions.load(model: files, modelPath: modelPath)
        : try tokenizerOptions.load(model: files, modelPath: modelPath)
      var prompts = idPrompts
      if let tokenizer, !prompt.isEmpty {
        prompts = try prompt.map { text in
          guard chat else { return tokenizer.encode(text) }
          return try Self.chatPromptIDs(text, system: system, tokenizer: tokenizer)
        }
      }
      for (i, p) in prompts.enumerated() {
        if let bad = p.first(where: { $0 < 0 || Int($0) >= files.config.vocabSize }) {
          throw ValidationError("prompt #\(i + 1): token id \(bad) outside vocabulary 0..<\(files.config.vocabSize)")
        }
      }
      let stops = ignoreEOS ? [] : Set(files.config.eosTokenIDs.map(Int32.init) + [tokenizer?.eosTokenID].compactMap { $0 })
      let blocks = prompts.map { ($0.count + maxTokens + 15) / 16 }.max()! * prompts.count
      let generator = GreedyGenerator(
        model: model, cache: PagedKVCache(config: files.config, numBlocks: max(blocks, 1), blockSize: 16))
      let outputs = generator.generate(prompts: prompts, maxTokens: maxTokens, stopTokenIDs: stops)
      for (p, output) in zip(prompts, outputs) {
        let text = tokenizer?.decode(output, skipSpecialTokens: true)
        if json {
          var object: [String: Any] = ["prompt_ids": p.map(Int.init), "generated_ids": output.map(Int.init)]
          if let text { object["text"] = text }
          let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
          print(String(decoding: data, as: UTF8.self))
        } else if let text, !prompt.isEmpty {
          print(text)
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

  /// The ids of a one-turn chat rendered with the tokenizer's template (no BOS added on top: templates carry it).
  static func chatPromptIDs(_ text: String, system: String?, tokenizer: Tokenizer) throws -> [Int32] {
    guard let source = tokenizer.chatTemplate else {
      throw ValidationError("--chat: the tokenizer has no chat template")
    }
    var messages: [ChatMessage] = []
    if let system { messages.append(ChatMessage(role: "system", content: system)) }
    messages.append(ChatMessage(role: "user", content: text))
    let rendered = try ChatTemplate(source: source).render(
      messages: messages, addGenerationPrompt: true, bosToken: tokenizer.bosToken ?? "",
      eosToken: tokenizer.eosToken ?? "")
    return tokenizer.encode(rendered, addSpecialTokens: false)
  }

  /// "1, 2,3" -> [1, 2, 3], with an error naming the option and the bad item.
  static func parseIDs(_ text: String, index: Int, option: String = "--prompt-ids") throws -> [Int32] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !items.isEmpty else { throw ValidationError("\(option) #\(index + 1) is empty") }
    return try items.map { item in
      guard let id = Int32(item) else {
        throw ValidationError("\(option) #\(index + 1): '\(item)' is not a token id")
      }
      return id
    }
  }
}
