import Foundation
import Testing

/// `seesaw run-batch` on the tiny test model with a byte-level tokenizer written for it (256 ids, a chat template),
/// so that a thousand requests run in seconds.
@Suite("seesaw run-batch")
struct RunBatchTests {
  static let model = CLITests.fixtures.appendingPathComponent("tiny-llama-gqa-tied").path

  /// A scratch directory with the byte tokenizer in `tokenizer/`.
  static func workspace() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-batch-\(UUID().uuidString)")
    let tokenizer = dir.appendingPathComponent("tokenizer")
    try FileManager.default.createDirectory(at: tokenizer, withIntermediateDirectories: true)
    // GPT-2's byte-to-character table: printable bytes stand for themselves, the rest move up past U+0100.
    var printable = Array(33...126) + Array(161...172) + Array(174...255)
    var chars = printable
    for byte in 0..<256 where !printable.contains(byte) {
      printable.append(byte)
      chars.append(256 + chars.count - 188)
    }
    var vocab: [String: Int] = [:]
    for (byte, char) in zip(printable, chars) { vocab[String(UnicodeScalar(UInt32(char))!)] = byte }
    let json: [String: Any] = [
      "model": ["type": "BPE", "vocab": vocab, "merges": [String]()],
      "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
      "decoder": ["type": "ByteLevel"],
    ]
    try JSONSerialization.data(withJSONObject: json).write(to: tokenizer.appendingPathComponent("tokenizer.json"))
    let config = [
      "chat_template":
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
    ]
    try JSONSerialization.data(withJSONObject: config).write(
      to: tokenizer.appendingPathComponent("tokenizer_config.json"))
    return dir
  }

  /// What a generated line should come back as.
  enum Expected: Equatable {
    case ok(id: String, choices: Int)
    /// The error code, the custom_id the line has (nil for bad JSON), and a word its message must contain.
    case error(code: String, id: String?, mention: String)
  }

  /// `count` lines: 70% valid (completions with text or token ids, chat with string or parts content; greedy or
  /// seeded sampling, 1-4 tokens, some with logprobs), and 5% each of bad JSON, wrong url or method, missing body,
  /// a bad field type, a prompt longer than the tiny model's 128-token context, and a duplicate custom_id.
  static func batch(count: Int) -> (text: String, expected: [Expected]) {
    var lines: [String] = []
    var expected: [Expected] = []
    let badFields = [
      (#""max_tokens": "4""#, "max_tokens"), (#""temperature": [1]"#, "temperature"), (#""n": 1.5"#, "n"),
      (#""stop": 3"#, "stop"), (#""logprobs": "yes""#, "logprobs"), (#""seed": false"#, "seed"),
    ]
    for i in 0..<count {
      let id = "req-\(i)"
      let maxTokens = 1 + i % 4
      func completion(_ body: String) -> String {
        #"{"custom_id": "\#(id)", "method": "POST", "url": "/v1/completions", "body": {"model": "tiny", \#(body)}}"#
      }
      func chat(_ body: String) -> String {
        #"{"custom_id": "\#(id)", "method": "POST", "url": "/v1/chat/completions", "body": {\#(body)}}"#
      }
      switch i % 20 {
      case 0:
        lines.append(#"{"custom_id": "\#(id)", "method": "POST", "url": "/v1/comp"#)
        expected.append(.error(code: "invalid_json", id: nil, mention: "JSON"))
      case 1 where i % 40 == 1:
        lines.append(#"{"custom_id": "\#(id)", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}"#)
        expected.append(.error(code: "invalid_url", id: id, mention: "/v1/embeddings"))
      case 1:
        lines.append(#"{"custom_id": "\#(id)", "method": "PUT", "url": "/v1/completions", "body": {"prompt": "x"}}"#)
        expected.append(.error(code: "invalid_method", id: id, mention: "PUT"))
      case 2:
        lines.append(#"{"custom_id": "\#(id)", "method": "POST", "url": "/v1/completions"}"#)
        expected.append(.error(code: "missing_body", id: id, mention: "body"))
      case 3:
        let (field, name) = badFields[(i / 20) % badFields.count]
        lines.append(completion(#""prompt": "hello", \#(field)"#))
        expected.append(.error(code: "invalid_field", id: id, mention: "'\(name)'"))
      case 4:
        lines.append(completion(#""prompt": "\#(String(repeating: "long ", count: 30))", "max_tokens": 2"#))
        expected.append(.error(code: "context_length_exceeded", id: id, mention: "context length"))
      case 5:
        // The custom_id of the valid line six before (of the line before at the start).
        let first = "req-\(i >= 6 ? i - 6 : i - 1)"
        lines.append(completion(#""prompt": "again", "max_tokens": 1"#).replacingOccurrences(of: id, with: first))
        expected.append(.error(code: "duplicate_custom_id", id: first, mention: first))
      case let k where k % 3 == 0:
        lines.append(completion(#""prompt": "Line \#(i): hello", "max_tokens": \#(maxTokens), "temperature": 0"#))
        expected.append(.ok(id: id, choices: 1))
      case let k where k % 3 == 1:
        lines.append(
          completion(
            #""prompt": [\#(1 + i % 200), 5, 9], "max_tokens": \#(maxTokens), "temperature": 0.8, "seed": \#(i), "n": 2"#
          ))
        expected.append(.ok(id: id, choices: 2))
      default:
        let content =
          i % 2 == 0 ? #""Hi \#(i)""# : #"[{"type": "text", "text": "Hi"}, {"type": "text", "text": "\#(i)"}]"#
        lines.append(
          chat(
            #""messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": \#(content)}], "max_completion_tokens": \#(maxTokens), "temperature": 0, "logprobs": true, "top_logprobs": 2"#
          ))
        expected.append(.ok(id: id, choices: 1))
      }
    }
    return (lines.joined(separator: "\n") + "\n", expected)
  }

  static func arguments(_ dir: URL, input: String = "in.jsonl", output: String = "out.jsonl") -> [String] {
    [
      "run-batch", "--model", model, "--tokenizer", dir.appendingPathComponent("tokenizer").path, "-i",
      dir.appendingPathComponent(input).path, "-o", dir.appendingPathComponent(output).path, "--max-num-seqs", "32",
    ]
  }

  static func objects(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
    }
  }

  /// An output file as the comparisons see it: `created` (when a line was written) zeroed, and the fractional
  /// numbers (log-probabilities) taken out into a list. The text must match byte for byte, the numbers within 1e-4:
  /// log-probabilities differ in their last bits when a sequence shares its steps with other sequences (the
  /// kernels' rounding depends on the batch's rows).
  static func normalized(_ url: URL) throws -> (text: String, numbers: [Double]) {
    let text = try String(contentsOf: url, encoding: .utf8)
      .replacingOccurrences(of: #""created":[0-9]+"#, with: #""created":0"#, options: .regularExpression)
    let number = try NSRegularExpression(pattern: #"-?[0-9]+\.[0-9]+(e-?[0-9]+)?"#)
    var out = ""
    var numbers: [Double] = []
    var last = text.startIndex
    for match in number.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
      let range = Range(match.range, in: text)!
      out += text[last..<range.lowerBound] + "#"
      numbers.append(Double(text[range])!)
      last = range.upperBound
    }
    return (out + text[last...], numbers)
  }

  /// The same output as `reference`, up to `created` and log-probability rounding.
  static func expectSame(_ url: URL, as reference: URL) throws {
    let (a, b) = (try normalized(url), try normalized(reference))
    #expect(a.text == b.text)
    #expect(a.numbers.count == b.numbers.count && zip(a.numbers, b.numbers).allSatisfy { abs($0 - $1) < 1e-4 })
  }

  @Test("1,000 lines with 30% malformed ones: one output line per input line, in order, errors naming the problem")
  func thousandLines() throws {
    let dir = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (text, expected) = Self.batch(count: 1000)
    try Data(text.utf8).write(to: dir.appendingPathComponent("in.jsonl"))
    let start = Date()
    let (status, _, stderr) = try CLITests.run(Self.arguments(dir))
    let seconds = Date().timeIntervalSince(start)
    #expect(status == 0, "\(stderr)")
    let lines = try Self.objects(String(contentsOf: dir.appendingPathComponent("out.jsonl"), encoding: .utf8))
    #expect(lines.count == expected.count)
    for (i, (line, want)) in zip(lines, expected).enumerated() {
      let response = line["response"] as? [String: Any]
      switch want {
      case .ok(let id, let choices):
        let body = response?["body"] as? [String: Any]
        #expect(line["custom_id"] as? String == id && line["error"] is NSNull, "line \(i + 1): \(line)")
        #expect(response?["status_code"] as? Int == 200 && (body?["choices"] as? [Any])?.count == choices)
      case .error(let code, let id, let mention):
        let error = line["error"] as? [String: Any]
        #expect(error?["code"] as? String == code && error?["line"] as? Int == i + 1, "line \(i + 1): \(line)")
        #expect((error?["message"] as? String)?.contains(mention) == true, "line \(i + 1): \(line)")
        #expect(line["custom_id"] as? String == id)
      }
    }
    let summary = stderr.split(separator: "\n").last { $0.contains("lines:") } ?? ""
    #expect(summary.contains("1000 lines: 700 ok, 300 failed, 0 skipped"), "\(stderr)")
    print("run-batch, 1,000 lines on the tiny model: \(String(format: "%.1f", seconds)) s; \(summary)")
  }

  /// A workspace with a batch of `count` lines in in.jsonl and an uninterrupted run's output in reference.jsonl.
  static func withReference(count: Int) throws -> URL {
    let dir = try workspace()
    try Data(batch(count: count).text.utf8).write(to: dir.appendingPathComponent("in.jsonl"))
    let reference = try CLITests.run(arguments(dir, output: "reference.jsonl"))
    #expect(reference.0 == 0, "\(reference.2)")
    return dir
  }

  @Test("killed with SIGKILL mid-run and resumed: each line once, the same bytes as an uninterrupted run")
  func killAndResume() throws {
    let dir = try Self.withReference(count: 600)
    defer { try? FileManager.default.removeItem(at: dir) }

    // Few sequences at a time, so that the run takes many flushes; kill it after a random number of lines.
    let killed = dir.appendingPathComponent("out.jsonl")
    let process = Process()
    process.executableURL = try CLITests.binary()
    process.arguments = Self.arguments(dir) + ["--max-num-seqs", "2"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    let target = Int.random(in: 20...200)
    var seen = 0
    while process.isRunning && seen < target {
      Thread.sleep(forTimeInterval: 0.005)
      seen = (FileManager.default.contents(atPath: killed.path) ?? Data()).filter { $0 == UInt8(ascii: "\n") }.count
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let partial = (FileManager.default.contents(atPath: killed.path) ?? Data()).filter { $0 == UInt8(ascii: "\n") }
    #expect(partial.count < 600, "the run ended before the kill (\(partial.count) lines)")

    let resumed = try CLITests.run(Self.arguments(dir))
    #expect(resumed.0 == 0, "\(resumed.2)")
    #expect(resumed.2.contains("resuming"), "\(resumed.2)")
    let ids = try Self.objects(String(contentsOf: killed, encoding: .utf8)).map { $0["custom_id"] as? String ?? "-" }
    #expect(ids.count == 600)
    #expect(Dictionary(grouping: ids.filter { $0 != "-" }, by: { $0 }).values.filter { $0.count > 1 }.count == 30)
    try Self.expectSame(killed, as: dir.appendingPathComponent("reference.jsonl"))
    print("run-batch: killed after \(seen) lines (target \(target)), resumed to 600")
  }

  @Test("resume cuts a half-written last line, drops lines of no input line, and runs nothing twice")
  func tornLastLine() throws {
    let dir = try Self.withReference(count: 60)
    defer { try? FileManager.default.removeItem(at: dir) }
    let full = try Data(contentsOf: dir.appendingPathComponent("reference.jsonl"))
    let lines = full.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let out = dir.appendingPathComponent("out.jsonl")

    // 25 complete lines and half of the 26th.
    var torn = Data(lines.prefix(25).joined(separator: [UInt8(ascii: "\n")])) + Data("\n".utf8)
    torn += lines[25].prefix(lines[25].count / 2)
    try torn.write(to: out)
    let first = try CLITests.run(Self.arguments(dir))
    #expect(first.0 == 0 && first.2.contains("25 lines answered already, a torn last line cut"), "\(first.2)")
    #expect(first.2.contains("35 ok") == false && first.2.contains("25 skipped"), "\(first.2)")
    try Self.expectSame(out, as: dir.appendingPathComponent("reference.jsonl"))

    // A line of another batch among them is dropped; an answered file runs nothing.
    var mixed = Data(lines.prefix(10).joined(separator: [UInt8(ascii: "\n")])) + Data("\n".utf8)
    mixed += Data(#"{"custom_id":"from-another-batch","error":null}"#.utf8) + Data("\n".utf8)
    try mixed.write(to: out)
    let second = try CLITests.run(Self.arguments(dir))
    #expect(second.0 == 0 && second.2.contains("1 lines of no input line dropped"), "\(second.2)")
    try Self.expectSame(out, as: dir.appendingPathComponent("reference.jsonl"))
    let third = try CLITests.run(Self.arguments(dir))
    #expect(third.2.contains("0 ok, 0 failed, 60 skipped"), "\(third.2)")
    let overwrite = try CLITests.run(Self.arguments(dir) + ["--overwrite"])
    #expect(overwrite.2.contains("0 skipped") && !overwrite.2.contains("resuming"), "\(overwrite.2)")
  }

  @Test("SmolLM2 answers examples/batch.jsonl: chat and completions lines, a bad field named, to stdout")
  func exampleFile() throws {
    let example = CLITests.fixtures.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("examples/batch.jsonl").path
    let (status, stdout, stderr) = try CLITests.run([
      "run-batch", "--model", CLITests.smolLM2, "-i", example, "-o", "-",
    ])
    #expect(status == 0, "\(stderr)")
    let lines = try Self.objects(stdout)
    #expect(
      lines.map { $0["custom_id"] as? String } == ["capital", "haiku", "story", "two-prompts", "sampled", "bad-field"])
    let capital = ((lines[0]["response"] as? [String: Any])?["body"] as? [String: Any])?["choices"] as? [[String: Any]]
    #expect((capital?[0]["message"] as? [String: Any])?["content"] as? String == "The capital of France is Paris.")
    let twoPrompts = ((lines[3]["response"] as? [String: Any])?["body"] as? [String: Any])?["choices"] as? [Any]
    #expect(twoPrompts?.count == 2)
    #expect((lines[5]["error"] as? [String: Any])?["param"] as? String == "max_tokens")
  }
}

extension MPIGenerateTests {
  @Test("run-batch under mpirun (tp2, pp2): rank 0 alone reads and writes, and writes what one process writes")
  func runBatch() throws {
    let dir = try RunBatchTests.withReference(count: 100)
    defer { try? FileManager.default.removeItem(at: dir) }
    for layout in ["tp2", "pp2"] {
      let (status, stdout, stderr) = try Self.launch(
        2, RunBatchTests.arguments(dir, output: "\(layout).jsonl") + ["--parallel", layout])
      #expect(status == 0 && stderr.contains("MPI processes"), "\(stderr)")
      #expect(stdout.isEmpty && stderr.components(separatedBy: "run-batch: 100 lines").count == 2, "\(stderr)")
      try RunBatchTests.expectSame(
        dir.appendingPathComponent("\(layout).jsonl"), as: dir.appendingPathComponent("reference.jsonl"))
    }
  }
}
