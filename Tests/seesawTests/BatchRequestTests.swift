import Foundation
import SeesawBatch
import SeesawTokenizer
import Testing

@testable import SeesawEngine

/// `BatchRequest.parse`, `BatchOutput` and `BatchResume` on their own: no engine, no files.
@Suite("OpenAI batch lines")
struct BatchRequestTests {
  static func parse(_ json: String) throws(BatchError) -> BatchRequest { try BatchRequest.parse(line: Data(json.utf8)) }

  static func line(_ body: String, url: String = "/v1/completions") -> String {
    #"{"custom_id": "r1", "method": "POST", "url": "\#(url)", "body": \#(body)}"#
  }

  static func line(chat body: String) -> String { line(body, url: "/v1/chat/completions") }

  static func error(_ json: String) -> BatchError? {
    do {
      _ = try parse(json)
      return nil
    } catch { return error }
  }

  @Test("a completion line reads its prompt and OpenAI's sampling fields, with vLLM's extensions")
  func completionFields() throws {
    let r = try Self.parse(
      Self.line(
        #"{"model": "gpt-x", "prompt": "Hi", "max_tokens": 5, "temperature": 0, "top_p": 0.5, "n": 2, "stop": ".","#
          + #" "seed": 7, "logprobs": 3, "presence_penalty": 0.5, "frequency_penalty": -1, "top_k": 4,"#
          + #" "min_p": 0.1, "ignore_eos": true, "repetition_penalty": 1.2, "some_future_field": [1]}"#))
    #expect(r.customID == "r1" && r.endpoint == .completions && r.model == "gpt-x" && r.maxTokens == 5)
    guard case .text("Hi") = r.prompts[0] else {
      Issue.record("prompt \(r.prompts)")
      return
    }
    let p = r.params
    #expect(p.maxTokens == 5 && p.temperature == 0 && p.topP == 0.5 && p.n == 2 && p.stop == ["."] && p.seed == 7)
    #expect(p.logprobs == 3 && p.presencePenalty == 0.5 && p.frequencyPenalty == -1 && p.topK == 4)
    #expect(p.minP == Float(0.1) && p.ignoreEOS && p.repetitionPenalty == Float(1.2))
  }

  @Test("defaults are OpenAI's: temperature 1, 16 tokens for completions, the rest of the context for chat")
  func defaults() throws {
    let completion = try Self.parse(Self.line(#"{"prompt": "Hi"}"#))
    #expect(completion.params.temperature == 1 && completion.params.logprobs == nil && completion.maxTokens == nil)
    #expect(try completion.params(promptLength: 3, maxContext: 100).maxTokens == 16)
    let chat = try Self.parse(Self.line(chat: #"{"messages": [{"role": "user", "content": "x"}]}"#))
    #expect(try chat.params(promptLength: 30, maxContext: 100).maxTokens == 70)
    #expect(try chat.params(promptLength: 30, maxContext: 100, maxSequenceTokens: 50).maxTokens == 20)
    let capped = try Self.parse(
      Self.line(chat: #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 9, "max_completion_tokens": 4}"#)
    )
    #expect(capped.maxTokens == 4)
  }

  @Test("prompt may be a string, strings, token ids or lists of token ids; anything else names 'prompt'")
  func promptForms() throws {
    #expect(try Self.parse(Self.line(#"{"prompt": ["a", "b", "c"]}"#)).prompts.count == 3)
    let ids = try Self.parse(Self.line(#"{"prompt": [1, 2, 3]}"#)).prompts
    guard case .tokens([1, 2, 3]) = ids[0], ids.count == 1 else {
      Issue.record("\(ids)")
      return
    }
    let lists = try Self.parse(Self.line(#"{"prompt": [[1, 2], [3]]}"#)).prompts
    guard case .tokens([3]) = lists[1], lists.count == 2 else {
      Issue.record("\(lists)")
      return
    }
    for bad in [#"7"#, #"[]"#, #"["a", 1]"#, #"[1.5]"#, #"[[1], "a"]"#, #"[9999999999]"#, #"{"a": 1}"#, #"[[]]"#] {
      let e = Self.error(Self.line(#"{"prompt": \#(bad)}"#))
      #expect(
        e?.code == .invalidField && e?.param == "prompt" && e?.customID == "r1", "\(bad): \(String(describing: e))")
    }
    #expect(Self.error(Self.line(#"{"max_tokens": 3}"#))?.message.contains("'prompt' is required") == true)
  }

  @Test("chat content is a string or a list of text parts; roles are system, user, assistant")
  func messages() throws {
    let r = try Self.parse(
      Self.line(
        chat:
          #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "logprobs": true, "top_logprobs": 2}"#
      ))
    guard case .messages(let m) = r.prompts[0] else {
      Issue.record("\(r.prompts)")
      return
    }
    #expect(m == [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "a\nb")])
    #expect(r.params.logprobs == 2 && r.endpoint == .chatCompletions)
    let cases: [(String, String)] = [
      (#"{"messages": "hi"}"#, "messages"),
      (#"{"messages": []}"#, "messages"),
      (#"{"messages": [{"role": "robot", "content": "x"}]}"#, "messages[0].role"),
      (#"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
      (#"{"messages": [{"role": "user"}]}"#, "messages[0].content"),
      (
        #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}"#,
        "messages[0].content[0].type"
      ),
      (#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}"#, "messages[0].content[0].text"),
      (#"{"messages": [{"role": "user", "content": "x"}], "logprobs": 2}"#, "logprobs"),
      (#"{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}"#, "top_logprobs"),
    ]
    for (body, field) in cases {
      let e = Self.error(Self.line(chat: body))
      #expect(e?.code == .invalidField && e?.param == field, "\(body): \(String(describing: e))")
      #expect(e?.message.contains("'\(field)'") == true)
    }
    // A chat body with completions' prompt is still missing its messages.
    #expect(Self.error(Self.line(chat: #"{"prompt": "x"}"#))?.param == "messages")
  }

  @Test("a field of the wrong type or out of range is an error naming it; null means the default")
  func fieldTypes() throws {
    let cases: [(String, String)] = [
      (#""temperature": "hot""#, "temperature"), (#""max_tokens": 2.5"#, "max_tokens"), (#""n": true"#, "n"),
      (#""ignore_eos": 1"#, "ignore_eos"), (#""stop": [1]"#, "stop"), (#""seed": "x""#, "seed"),
      (#""logprobs": true"#, "logprobs"), (#""top_p": 7"#, "top_p"), (#""max_tokens": 0"#, "max_tokens"),
      (#""model": 3"#, "model"), (#""presence_penalty": 5"#, "presence_penalty"), (#""top_k": [1]"#, "top_k"),
      (#""min_p": {}"#, "min_p"), (#""repetition_penalty": 0"#, "repetition_penalty"),
      (#""frequency_penalty": "1""#, "frequency_penalty"), (#""n": 1000000"#, "n"),
    ]
    for (field, name) in cases {
      let e = Self.error(Self.line(#"{"prompt": "x", \#(field)}"#))
      #expect(e?.code == .invalidField && e?.param == name, "\(field): \(String(describing: e))")
    }
    let nulls = try Self.parse(Self.line(#"{"prompt": "x", "temperature": null, "max_tokens": 4.0, "stop": null}"#))
    #expect(nulls.params.temperature == 1 && nulls.maxTokens == 4 && nulls.params.stop.isEmpty)
  }

  @Test("fields the engine cannot honour are refused when they ask for something, accepted at their defaults")
  func unsupportedFields() throws {
    for (field, name) in [
      (#""echo": true"#, "echo"), (#""suffix": "end""#, "suffix"), (#""best_of": 3"#, "best_of"),
      (#""logit_bias": {"50256": -100}"#, "logit_bias"), (#""tools": [{"type": "function"}]"#, "tools"),
      (#""response_format": {"type": "json_object"}"#, "response_format"),
    ] {
      let e = Self.error(Self.line(#"{"prompt": "x", \#(field)}"#))
      #expect(e?.param == name && e?.message.contains("not supported") == true, "\(field)")
    }
    _ = try Self.parse(
      Self.line(
        #"{"prompt": "x", "echo": false, "suffix": null, "best_of": 1, "logit_bias": {}, "tools": [], "response_format": {"type": "text"}, "stream": false, "user": "u"}"#
      ))
  }

  @Test("envelope problems: bad JSON, custom_id, method, url and body each have their own code")
  func envelope() {
    let cases: [(String, BatchError.Code)] = [
      ("{not json", .invalidJSON), ("[1, 2]", .invalidJSON), ("", .invalidJSON),
      (#"{"method": "POST", "url": "/v1/completions", "body": {"prompt": "x"}}"#, .missingCustomID),
      (#"{"custom_id": 5, "method": "POST", "url": "/v1/completions", "body": {}}"#, .missingCustomID),
      (#"{"custom_id": "a", "method": "GET", "url": "/v1/completions", "body": {}}"#, .invalidMethod),
      (#"{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}"#, .invalidURL),
      (#"{"custom_id": "a", "method": "POST", "url": "/v1/completions"}"#, .missingBody),
      (#"{"custom_id": "a", "method": "POST", "url": "/v1/completions", "body": "x"}"#, .missingBody),
    ]
    for (json, code) in cases {
      #expect(Self.error(json)?.code == code, "\(json)")
    }
    #expect(Self.error(cases[6].0)?.message.contains("/v1/embeddings") == true)
  }

  @Test("any bytes parse or throw: truncations and byte flips of a valid line never crash")
  func arbitraryBytes() {
    let valid = Array(
      Self.line(chat: #"{"messages": [{"role": "user", "content": [{"type": "text", "text": "é"}]}], "n": 2}"#)
        .utf8)
    var generator = SystemRandomNumberGenerator()
    for cut in 0...valid.count { _ = Self.error(String(decoding: valid.prefix(cut), as: UTF8.self)) }
    for _ in 0..<2000 {
      var bytes = valid
      for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255) }
      _ = try? BatchRequest.parse(line: Data(bytes))
    }
    _ = try? BatchRequest.parse(line: Data(String(repeating: "[", count: 100_000).utf8))
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    _ = try? BatchRequest.parse(line: Data(deep.utf8))
    _ = try? BatchRequest.parse(line: Data(Self.line(#"{"prompt": \#(deep)}"#).utf8))
  }

  @Test("a prompt and max_tokens longer than the context are refused with OpenAI's message")
  func contextLength() throws {
    let r = try Self.parse(Self.line(#"{"prompt": "x", "max_tokens": 10}"#))
    #expect(throws: BatchError.self) { try r.params(promptLength: 95, maxContext: 100) }
    do { _ = try r.params(promptLength: 95, maxContext: 100) } catch {
      #expect(error.code == .contextLengthExceeded && error.message.contains("maximum context length is 100"))
    }
    let chat = try Self.parse(Self.line(chat: #"{"messages": [{"role": "user", "content": "x"}]}"#))
    #expect(throws: BatchError.self) { try chat.params(promptLength: 100, maxContext: 100) }
  }
}

extension BatchRequestTests {
  static func output(logprobs: Bool) -> RequestOutput {
    let lp = Sampler.Logprobs(sampled: -0.5, top: [(id: 5, logprob: -0.25), (id: 6, logprob: -2)])
    return RequestOutput(
      index: 0, promptTokenIDs: [1, 2, 3],
      outputs: [
        CompletionOutput(
          index: 0, tokenIDs: [6, 7], text: "fg", finishReason: .length, logprobs: logprobs ? [lp, lp] : [])
      ], finished: true)
  }

  static let tokenText = { (id: Int32) in String(UnicodeScalar(UInt8(97 + id))) }

  @Test("completions: text_completion with choices, legacy logprobs and usage")
  func completionOutput() throws {
    let r = try Self.parse(Self.line(#"{"prompt": ["x", "y"], "logprobs": 2}"#))
    let line = BatchOutput.success(
      r, outputs: [Self.output(logprobs: true), Self.output(logprobs: true)], model: "m", created: 9,
      tokenText: Self.tokenText)
    #expect(line["custom_id"] as? String == "r1" && line["error"] is NSNull)
    let response = line["response"] as! [String: Any]
    let body = response["body"] as! [String: Any]
    #expect(response["status_code"] as? Int == 200 && body["object"] as? String == "text_completion")
    let choices = body["choices"] as! [[String: Any]]
    #expect(choices.map { $0["index"] as! Int } == [0, 1] && choices[0]["text"] as? String == "fg")
    #expect(choices[0]["finish_reason"] as? String == "length")
    let logprobs = choices[0]["logprobs"] as! [String: Any]
    #expect(logprobs["tokens"] as? [String] == ["g", "h"] && logprobs["text_offset"] as? [Int] == [0, 1])
    #expect(logprobs["token_logprobs"] as? [Double] == [-0.5, -0.5])
    #expect((logprobs["top_logprobs"] as? [[String: Double]])?[0] == ["f": -0.25, "g": -2])
    let usage = body["usage"] as! [String: Int]
    #expect(usage == ["prompt_tokens": 6, "completion_tokens": 4, "total_tokens": 10])
    // Ids come from the custom_id: the same line encodes to the same bytes.
    let again = BatchOutput.success(
      r, outputs: [Self.output(logprobs: true), Self.output(logprobs: true)], model: "m", created: 9,
      tokenText: Self.tokenText)
    #expect(BatchOutput.encode(line) == BatchOutput.encode(again))
    #expect((line["id"] as? String)?.hasPrefix("batch_req_") == true && body["id"] as? String != nil)
  }

  @Test("chat: chat.completion with an assistant message and content logprobs with bytes")
  func chatOutput() throws {
    let r = try Self.parse(
      Self.line(chat: #"{"messages": [{"role": "user", "content": "x"}], "logprobs": true}"#))
    let body =
      (BatchOutput.success(
        r, outputs: [Self.output(logprobs: true)], model: "m", created: 9, tokenText: Self.tokenText)["response"]
      as! [String: Any])["body"] as! [String: Any]
    #expect(body["object"] as? String == "chat.completion" && (body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
    let choice = (body["choices"] as! [[String: Any]])[0]
    #expect(choice["message"] as? [String: String] == ["role": "assistant", "content": "fg"])
    let content = (choice["logprobs"] as! [String: Any])["content"] as! [[String: Any]]
    #expect(content.count == 2 && content[0]["token"] as? String == "g" && content[0]["bytes"] as? [Int] == [103])
    #expect((content[0]["top_logprobs"] as? [[String: Any]])?.map { $0["token"] as! String } == ["f", "g"])
    let plain = try Self.parse(Self.line(chat: #"{"messages": [{"role": "user", "content": "x"}]}"#))
    let noLogprobs = BatchOutput.success(
      plain, outputs: [Self.output(logprobs: false)], model: "m", created: 9, tokenText: Self.tokenText)
    #expect(String(decoding: BatchOutput.encode(noLogprobs), as: UTF8.self).contains(#""logprobs":null"#))
  }

  @Test("error lines: a request gets a 400 body, a non-request a null response; both an error {code, message}")
  func failureOutput() throws {
    let field = BatchOutput.failure(
      BatchError(.invalidField, "field 'n' must be an integer", param: "n", customID: "a"), line: 4)
    let response = field["response"] as! [String: Any]
    #expect(response["status_code"] as? Int == 400 && field["custom_id"] as? String == "a")
    #expect(((response["body"] as! [String: Any])["error"] as! [String: Any])["param"] as? String == "n")
    #expect((field["error"] as! [String: Any])["code"] as? String == "invalid_field")
    let json = BatchOutput.failure(BatchError(.invalidJSON, "the line is not a JSON object"), line: 0)
    #expect(json["response"] is NSNull && json["custom_id"] is NSNull)
    #expect((json["error"] as! [String: Any])["line"] as? Int == 1)
  }

  @Test("resume keeps answered lines by custom_id and occurrence, cuts a torn tail and drops strangers")
  func resume() {
    let a = #"{"custom_id":"a","x":1}"#
    let b = #"{"custom_id":"b"}"#
    let none = #"{"custom_id":null}"#
    let keys: [String?] = ["a", nil, "b", "a", "c"]
    let complete = BatchResume(existing: Data("\(a)\n\(none)\n\(b)\n".utf8), keys: keys)
    #expect(complete.answered == [true, true, true, false, false] && complete.isPrefix && !complete.tornTail)
    let torn = BatchResume(existing: Data("\(a)\n\(none)\n{\"custom_id\":\"b".utf8), keys: keys)
    #expect(torn.answered == [true, true, false, false, false] && torn.isPrefix && torn.tornTail)
    #expect(torn.kept == Data("\(a)\n\(none)\n".utf8))
    let strangers = BatchResume(
      existing: Data("\(a)\n{\"custom_id\":\"zz\"}\nnot json\n\(b)\n\(a)\n\(a)\n".utf8), keys: keys)
    #expect(strangers.answered == [true, false, true, true, false] && !strangers.isPrefix)
    #expect(strangers.kept == Data("\(a)\n\(b)\n\(a)\n".utf8) && strangers.numDropped == 3)
    #expect(BatchResume(existing: Data(), keys: keys).answered == [false, false, false, false, false])
  }
}
