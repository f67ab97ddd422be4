import Foundation
import SeesawEngine

/// Lines of an OpenAI Batch API output file:
///
///     {"id": "batch_req_…", "custom_id", "response": {"status_code": 200, "request_id": "req_…",
///      "body": text_completion | chat.completion}, "error": null}
///     {"id", "custom_id", "response": {"status_code": 400, "request_id", "body": {"error": {…}}} | null,
///      "error": {"code", "message", "param"?, "line"}}
///
/// Ids are derived from the custom_id (not random), so a rerun writes the same bytes; only `created` differs.
/// Keys are sorted.
public enum BatchOutput {
  /// The line for a request whose prompts all finished (`outputs` in the order of `request.prompts`).
  public static func success(
    _ request: BatchRequest, outputs: [RequestOutput], model: String, created: Int, tokenText: (Int32) -> String
  ) -> [String: Any] {
    let hash = stableHash(request.customID)
    let chat = request.endpoint == .chatCompletions
    let n = request.params.n
    var choices: [[String: Any]] = []
    for (p, output) in outputs.enumerated() {
      for c in output.outputs {
        var choice: [String: Any] = [
          "index": p * n + c.index, "finish_reason": c.finishReason.map { $0.rawValue as Any } ?? NSNull(),
          "logprobs": request.params.logprobs == nil ? NSNull() : logprobs(c, chat: chat, tokenText: tokenText),
        ]
        if chat {
          choice["message"] = ["role": "assistant", "content": c.text]
        } else {
          choice["text"] = c.text
        }
        choices.append(choice)
      }
    }
    let promptTokens = outputs.reduce(0) { $0 + $1.promptTokenIDs.count }
    let completionTokens = outputs.reduce(0) { $0 + $1.outputs.reduce(0) { $0 + $1.tokenIDs.count } }
    let body: [String: Any] = [
      "id": (chat ? "chatcmpl-" : "cmpl-") + hash, "object": chat ? "chat.completion" : "text_completion",
      "created": created, "model": model, "choices": choices,
      "usage": [
        "prompt_tokens": promptTokens, "completion_tokens": completionTokens,
        "total_tokens": promptTokens + completionTokens,
      ],
    ]
    return [
      "id": "batch_req_" + hash, "custom_id": request.customID,
      "response": ["status_code": 200, "request_id": "req_" + hash, "body": body], "error": NSNull(),
    ]
  }

  /// The line for input line `line` (0-based) that got no completion. A line that is a request (custom_id, method,
  /// url and body readable) gets a 400 response with OpenAI's error body; one that is not gets `response: null`.
  public static func failure(_ error: BatchError, line: Int) -> [String: Any] {
    let hash = stableHash(error.customID ?? "line \(line + 1)")
    var object: [String: Any] = ["code": error.code.rawValue, "message": error.message, "line": line + 1]
    if let param = error.param { object["param"] = param }
    let isRequest = ![.invalidJSON, .missingCustomID, .invalidMethod, .invalidURL, .missingBody].contains(error.code)
    let body: [String: Any] = [
      "error": [
        "message": error.message, "type": "invalid_request_error", "param": error.param.map { $0 as Any } ?? NSNull(),
        "code": error.code.rawValue,
      ]
    ]
    return [
      "id": "batch_req_" + hash, "custom_id": error.customID.map { $0 as Any } ?? NSNull(),
      "response": isRequest ? ["status_code": 400, "request_id": "req_" + hash, "body": body] : NSNull(),
      "error": object,
    ]
  }

  /// One output line with its newline: compact JSON, sorted keys.
  public static func encode(_ object: [String: Any]) -> Data {
    var data =
      (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
      ?? Data(#"{"error":{"code":"internal","message":"unencodable output"}}"#.utf8)
    data.append(UInt8(ascii: "\n"))
    return data
  }

  /// Log-probabilities in the endpoint's format: completions {tokens, token_logprobs, top_logprobs, text_offset};
  /// chat {content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}.
  static func logprobs(_ c: CompletionOutput, chat: Bool, tokenText: (Int32) -> String) -> [String: Any] {
    let pairs = Array(zip(c.tokenIDs, c.logprobs))
    if chat {
      func entry(_ id: Int32, _ logprob: Float) -> [String: Any] {
        let text = tokenText(id)
        return ["token": text, "logprob": finite(logprob), "bytes": Array(text.utf8).map(Int.init)]
      }
      return [
        "content": pairs.map { id, lp -> [String: Any] in
          var e = entry(id, lp.sampled)
          e["top_logprobs"] = lp.top.map { entry($0.id, $0.logprob) }
          return e
        }
      ]
    }
    var offset = 0
    var offsets: [Int] = []
    let tokens = pairs.map { id, _ -> String in
      let text = tokenText(id)
      offsets.append(offset)
      offset += text.unicodeScalars.count
      return text
    }
    // vLLM's top_logprobs hold the top k and the sampled token.
    let tops = pairs.map { id, lp -> [String: Double] in
      var top: [String: Double] = [tokenText(id): finite(lp.sampled)]
      for t in lp.top { top[tokenText(t.id)] = finite(t.logprob) }
      return top
    }
    return [
      "tokens": tokens, "token_logprobs": pairs.map { finite($0.1.sampled) }, "top_logprobs": tops,
      "text_offset": offsets,
    ]
  }

  /// JSON has no infinities; vLLM writes -9999.0 for them.
  static func finite(_ x: Float) -> Double { x.isFinite ? Double(x) : -9999.0 }

  /// 16 hex digits of FNV-1a 64 of the text: the same custom_id gives the same ids in every run.
  public static func stableHash(_ text: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      h ^= UInt64(byte)
      h = h &* 0x100_0000_01b3
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
