import ArgumentParser
import Foundation
import SeesawEngine
import SeesawModel
import SeesawTokenizer

/// `seesaw generate`: prompts from the command line or a JSONL file through the engine.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Generate completions; all prompts run together with continuous batching.",
    discussion: """
      --input lines: {"prompt": "..."} | {"prompt_token_ids": [...]} | {"messages": [{"role", "content"}]}, with
      optional fields temperature, top_p, top_k, min_p, seed, max_tokens, min_tokens, stop, stop_token_ids,
      ignore_eos, n, logprobs, repetition_penalty, presence_penalty, frequency_penalty.
      Output lines (input order): {"index", "prompt_token_count", "outputs": [{"index", "token_ids", "text",
      "finish_reason", "logprobs"?}]}, or {"index", "error"} for a bad line.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions
  @OptionGroup var engineOptions: EngineOptions
  @OptionGroup var parallelOptions: ParallelOptions
  @OptionGroup var samplingOptions: SamplingOptions

  @Option(help: "A text prompt; repeat for several prompts.")
  var prompt: [String] = []

  @Flag(help: "Treat each --prompt as a user message and apply the model's chat template.")
  var chat = false

  @Option(help: "With --chat: a system message put before each prompt.")
  var system: String?

  @Option(name: .customLong("prompt-ids"), help: "Comma-separated prompt token ids; repeatable.")
  var promptIDs: [String] = []

  @Option(name: .shortAndLong, help: "A JSONL file of prompts (see below).")
  var input: String?

  @Option(name: .shortAndLong, help: "Where to write JSONL results (default: stdout).")
  var output: String?

  @Flag(help: "Print JSON lines instead of plain text for command-line prompts.")
  var json = false

  func validate() throws {
    let sources = [!prompt.isEmpty, !promptIDs.isEmpty, input != nil].filter { $0 }.count
    guard sources == 1 else { throw ValidationError("give exactly one of --prompt, --prompt-ids and --input") }
    guard !chat || !prompt.isEmpty else { throw ValidationError("--chat needs --prompt") }
  }

  func run() throws {
    let defaults = samplingOptions.params
    do { try defaults.validate() } catch {
      throw ValidationError((error as? LocalizedError)?.errorDescription ?? "\(error)")
    }
    var entries: [Result<PromptFile.Entry, PromptFile.LineError>]
    if let input {
      entries = try PromptFile.read(path: input, defaults: defaults)
    } else if !promptIDs.isEmpty {
      entries = try promptIDs.enumerated().map {
        .success(.init(prompt: .tokens(try Self.parseIDs($1, index: $0)), params: defaults))
      }
    } else {
      entries = prompt.map { text in
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        messages.append(ChatMessage(role: "user", content: text))
        return .success(.init(prompt: chat ? .messages(messages) : .text(text), params: defaults))
      }
    }
    do {
      let modelPath = try modelOptions.resolvedPath()
      let files = try ModelFiles(path: modelPath)
      let needsTokenizer = input != nil || !prompt.isEmpty
      let tokenizer: Tokenizer? =
        needsTokenizer
        ? try tokenizerOptions.load(model: files, modelPath: modelPath)
        : try? tokenizerOptions.load(model: files, modelPath: modelPath)
      // --plan auto simulates the requests: prompt tokens and the most tokens each may generate.
      let lengths =
        parallelOptions.planMode == nil
        ? nil
        : entries.compactMap { entry -> (input: Int, output: Int)? in
          guard case .success(let e) = entry, let ids = try? LLMEngine.tokenize(e.prompt, tokenizer: tokenizer) else {
            return nil
          }
          return (ids.count, e.params.n * e.params.maxTokens)
        }
      guard
        let engine = try parallelOptions.makeEngine(
          files: files, modelOptions: modelOptions, tokenizer: tokenizer, engineConfig: try engineOptions.config(),
          lengths: lengths)
      else { return }  // an MPI worker rank: it served until the driver shut the run down
      let stats = engine.schedulerStats
      FileHandle.standardError.write(
        Data("seesaw: \(files.path): KV cache \(stats.numBlocks) blocks of \(engine.config.blockSize) tokens\n".utf8))
      let writer = try OutputWriter(path: output)
      var requestToLine: [Int: Int] = [:]
      for (line, entry) in entries.enumerated() {
        switch entry {
        case .failure(let e): try writer.write(line: line, object: ["index": line, "error": e.message])
        case .success(let e):
          do {
            requestToLine[try engine.addRequest(e.prompt, params: e.params)] = line
          } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            try writer.write(line: line, object: ["index": line, "error": "line \(line + 1): \(message)"])
          }
        }
      }
      let plain = input == nil && !json
      let progress = ProgressReporter(total: entries.count)
      var done = entries.count - requestToLine.count
      while engine.hasUnfinishedRequests {
        for result in try engine.step() {
          let line = requestToLine[result.index]!
          done += 1
          if plain {
            writer.write(line: line, text: result.outputs.map(\.text).joined(separator: "\n"))
          } else {
            try writer.write(line: line, object: Self.json(result, line: line))
          }
        }
        try writer.flush()
        if input != nil { progress.update(done: done, engine: engine) }
      }
      if input != nil { progress.finish(engine: engine) }
      try writer.close()
      _ = try parallelOptions.shutDown(engine)
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }

  static func json(_ result: RequestOutput, line: Int) -> [String: Any] {
    [
      "index": line,
      "prompt_token_count": result.promptTokenIDs.count,
      "outputs": result.outputs.map { c -> [String: Any] in
        var o: [String: Any] = [
          "index": c.index, "token_ids": c.tokenIDs.map(Int.init), "text": c.text,
          "finish_reason": c.finishReason?.rawValue ?? NSNull(),
        ]
        if !c.logprobs.isEmpty {
          o["logprobs"] = zip(c.tokenIDs, c.logprobs).map { id, lp in
            ["token_id": Int(id), "logprob": lp.sampled, "top": lp.top.map { [Int($0.id), $0.logprob] as [Any] }]
              as [String: Any]
          }
        }
        return o
      },
    ]
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
