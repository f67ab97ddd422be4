import ArgumentParser
import Foundation
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

  struct FieldError: Error, CustomStringConvertible {
    var description: String
  }

  static func parse(_ line: Data, defaults: SamplingParams) throws -> Entry {
    guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
      throw FieldError(description: "not a JSON object")
    }
    let prompt: Prompt
    if let text = object["prompt"] as? String {
      prompt = .text(text)
    } else if let ids = object["prompt_token_ids"] as? [NSNumber] {
      prompt = .tokens(ids.map(\.int32Value))
    } else if let messages = object["messages"] as? [[String: Any]] {
      prompt = .messages(
        try messages.enumerated().map { i, m in
          guard let role = m["role"] as? String, let content = m["content"] as? String else {
            throw FieldError(description: "field 'messages[\(i)]' needs string 'role' and 'content'")
          }
          return ChatMessage(role: role, content: content)
        })
    } else {
      throw FieldError(description: "needs 'prompt' (string), 'prompt_token_ids' (list of ints) or 'messages'")
    }
    var p = defaults
    func number(_ key: String) throws -> NSNumber? {
      guard let v = object[key] else { return nil }
      // JSON true/false arrive as NSNumber too; their objCType is "c".
      guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else {
        throw FieldError(description: "field '\(key)' must be a number")
      }
      return n
    }
    if let v = try number("temperature") { p.temperature = v.floatValue }
    if let v = try number("top_p") { p.topP = v.floatValue }
    if let v = try number("top_k") { p.topK = v.intValue }
    if let v = try number("min_p") { p.minP = v.floatValue }
    if let v = try number("seed") { p.seed = UInt64(truncatingIfNeeded: v.int64Value) }
    if let v = try number("max_tokens") { p.maxTokens = v.intValue }
    if let v = try number("min_tokens") { p.minTokens = v.intValue }
    if let v = try number("n") { p.n = v.intValue }
    if let v = try number("logprobs") { p.logprobs = v.intValue }
    if let v = try number("repetition_penalty") { p.repetitionPenalty = v.floatValue }
    if let v = try number("presence_penalty") { p.presencePenalty = v.floatValue }
    if let v = try number("frequency_penalty") { p.frequencyPenalty = v.floatValue }
    if let v = object["ignore_eos"] {
      guard let b = v as? Bool else { throw FieldError(description: "field 'ignore_eos' must be true or false") }
      p.ignoreEOS = b
    }
    if let v = object["stop"] {
      if let s = v as? String { p.stop = [s] } else if let list = v as? [String] { p.stop = list } else {
        throw FieldError(description: "field 'stop' must be a string or a list of strings")
      }
    }
    if let v = object["stop_token_ids"] {
      guard let list = v as? [NSNumber] else { throw FieldError(description: "field 'stop_token_ids' must be a list of ints") }
      p.stopTokenIDs = list.map(\.int32Value)
    }
    do { try p.validate() } catch { throw FieldError(description: (error as? LocalizedError)?.errorDescription ?? "\(error)") }
    return Entry(prompt: prompt, params: p)
  }
}
