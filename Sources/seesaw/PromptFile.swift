import ArgumentParser
import Foundation
import SeesawBatch
import SeesawEngine
import SeesawTokenizer

/// `generate --input` lines: {"prompt": ...} | {"prompt_token_ids": [...]} | {"messages": [...]}, each with
/// optional sampling fields in vLLM/OpenAI names. A bad line becomes an error for that line only.
enum PromptFile {
  struct Entry {
    var prompt: Prompt
    var params: SamplingParams
  }

  /// Parses every line; `Result.failure` carries a message naming the line and field.
  static func read(path: String, defaults: SamplingParams) throws -> [Result<Entry, LineError>] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("--input \(path): no such file or not readable")
    }
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    return lines.enumerated().map { i, line in
      Result { try parse(Data(line), defaults: defaults) }.mapError { LineError(message: "\(path):\(i + 1): \($0)") }
    }
  }

  struct LineError: Error {
    var message: String
  }

  /// A line that is not a prompt object at all.
  struct FormatError: Error, CustomStringConvertible {
    var description: String
  }

  static func parse(_ line: Data, defaults: SamplingParams) throws -> Entry {
    guard let object = JSONFields.parse(line) else { throw FormatError(description: "not a JSON object") }
    let fields = JSONFields(object)
    let prompt: Prompt
    if let text = object["prompt"] as? String {
      prompt = .text(text)
    } else if let ids = object["prompt_token_ids"] as? [NSNumber] {
      prompt = .tokens(ids.map(\.int32Value))
    } else if object["messages"] != nil {
      prompt = .messages(try BatchRequest.messages(fields))
    } else {
      throw FormatError(description: "needs 'prompt' (string), 'prompt_token_ids' (list of ints) or 'messages'")
    }
    var p = defaults
    try p.apply(fields)
    if let v = try fields.integer("logprobs") { p.logprobs = v }
    try p.validateFields()
    return Entry(prompt: prompt, params: p)
  }
}
