import ArgumentParser
import Foundation
import SeesawModel
import SeesawTokenizer

/// `--tokenizer`, for commands that turn text into ids.
struct TokenizerOptions: ParsableArguments {
  @Option(help: "A Hugging Face directory with tokenizer.json, or a .gguf whose vocabulary to use. Default: the model's own.")
  var tokenizer: String?

  /// The tokenizer named by --tokenizer, else the one that comes with the model files.
  func load(model: ModelFiles?, modelPath: String) throws -> Tokenizer {
    if let gguf = model?.gguf, tokenizer == nil { return try Tokenizer(gguf: gguf) }
    return try Tokenizer(path: tokenizer ?? modelPath)
  }
}

extension Tokenizer {
  /// The tokenizer of a GGUF file or of a Hugging Face directory.
  convenience init(path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw TokenizerError.cannotOpen(path: path, reason: "no such file or directory")
    }
    if isDirectory.boolValue {
      try self.init(directory: path)
    } else {
      try self.init(gguf: try GGUFFile(path: path))
    }
  }

  /// The vocabulary embedded in a parsed GGUF file.
  convenience init(gguf: GGUFFile) throws {
    try self.init(gguf: GGUFVocabulary(metadata: gguf.metadata.mapValues(\.plain), path: gguf.path), path: gguf.path)
  }
}

/// `seesaw tokenize`: text to ids.
struct TokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text.")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions
  @Option(help: "The text to encode.") var text: String?
  @Option(help: "A file whose whole content to encode.") var input: String?
  @Flag(name: .customLong("no-special-tokens"), help: "Do not add BOS/EOS.") var noSpecialTokens = false
  @Flag(help: "Print {\"ids\": [...], \"tokens\": [...]}.") var json = false

  func validate() throws {
    guard (text == nil) != (input == nil) else { throw ValidationError("give exactly one of --text and --input") }
  }

  func run() throws {
    do {
      let content: String
      if let input {
        guard let data = FileManager.default.contents(atPath: input) else {
          throw TokenizerError.cannotOpen(path: input, reason: "no such file or not readable")
        }
        content = String(decoding: data, as: UTF8.self)
      } else {
        content = text!
      }
      let tokenizer = try tokenizerOptions.load(model: nil, modelPath: try modelOptions.resolvedPath())
      let ids = tokenizer.encode(content, addSpecialTokens: !noSpecialTokens)
      if json {
        let object: [String: Any] = ["ids": ids.map(Int.init), "tokens": ids.map { tokenizer.vocabulary[Int($0)] }]
        print(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
      } else {
        print(ids.map(String.init).joined(separator: ","))
      }
    } catch {
      fail(error)
    }
  }
}

/// `seesaw detokenize`: ids to text.
struct DetokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "detokenize", abstract: "Print the text of token ids.")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions
  @Option(help: "Comma-separated token ids.") var ids: String
  @Flag(name: .customLong("skip-special-tokens"), help: "Leave out special tokens.") var skipSpecialTokens = false

  func run() throws {
    let parsed = try GenerateCommand.parseIDs(ids, index: 0, option: "--ids")
    do {
      let tokenizer = try tokenizerOptions.load(model: nil, modelPath: try modelOptions.resolvedPath())
      if let bad = parsed.first(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
        throw ValidationError("--ids: token id \(bad) outside vocabulary 0..<\(tokenizer.vocabularySize)")
      }
      print(tokenizer.decode(parsed, skipSpecialTokens: skipSpecialTokens))
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}
