import Foundation
import Testing

@testable import seesaw

/// The `seesaw` executable, run as a user runs it.
@Suite("seesaw command line")
struct CLITests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  /// The built `seesaw` next to the test bundle.
  static func binary() throws -> URL {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("seesaw") }
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
  }

  /// Runs the built `seesaw` (through `launcher`, e.g. mpirun, when given); returns (exit code, stdout, stderr).
  static func run(_ arguments: [String], launcher: String? = nil, launcherArguments: [String] = []) throws
    -> (Int32, String, String)
  {
    let binary = try binary()
    let process = Process()
    if let launcher {
      process.executableURL = URL(fileURLWithPath: launcher)
      process.arguments = launcherArguments + [binary.path] + arguments
    } else {
      process.executableURL = binary
      process.arguments = arguments
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain stderr on the side, so that a chatty process cannot block on a full pipe while stdout is read.
    let stderrData = StreamCollector(err.fileHandleForReading)
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    Thread.sleep(forTimeInterval: 0.05)
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), stderrData.text)
  }

  @Test("generate --json prints transformers' greedy ids for a tiny model")
  func generateJSON() throws {
    let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny-llama-untied/golden.json"))
    let greedy = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["greedy"] as! [String: Any]
    let prompt = greedy["prompt_ids"] as! [Int], expected = greedy["generated_ids"] as! [Int]
    let model = Self.fixtures.appendingPathComponent("tiny-llama-untied").path
    let (status, stdout, stderr) = try Self.run([
      "generate", "--model", model, "--prompt-ids", prompt.map(String.init).joined(separator: ","),
      "--prompt-ids", "5,6", "--max-tokens", "\(expected.count)", "--ignore-eos", "--json",
    ])
    #expect(status == 0, "\(stderr)")
    let lines = stdout.split(separator: "\n")
    #expect(lines.count == 2)
    let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
    let completion = (first["outputs"] as! [[String: Any]])[0]
    #expect(completion["token_ids"] as? [Int] == expected)
    #expect(first["prompt_token_count"] as? Int == prompt.count && first["index"] as? Int == 0)
  }

  @Test("bad input ends with a clear message and a non-zero status")
  func badInput() throws {
    let missing = try Self.run(["generate", "--model", "/nonexistent/m.gguf", "--prompt-ids", "1"])
    #expect(missing.0 != 0 && missing.2.contains("/nonexistent/m.gguf") && missing.2.contains("no such file"))
    let model = Self.fixtures.appendingPathComponent("tiny-llama-untied").path
    let badID = try Self.run(["generate", "--model", model, "--prompt-ids", "1,x"])
    #expect(badID.0 != 0 && badID.2.contains("'x' is not a token id"))
    let outside = try Self.run(["generate", "--model", model, "--prompt-ids", "1,300", "--json"])
    #expect(outside.1.contains("token id 300 outside vocabulary"))
    let dtype = try Self.run(["generate", "--model", model, "--prompt-ids", "1", "--kv-cache-dtype", "fp8"])
    #expect(dtype.0 != 0 && dtype.2.contains("--kv-cache-dtype must be auto, f32 or bf16, not 'fp8'"), "\(dtype.2)")
  }

  @Test("prompt ids parse with spaces and name the bad option")
  func parseIDs() throws {
    #expect(try GenerateCommand.parseIDs("1, 2,3", index: 0) == [1, 2, 3])
    #expect(throws: (any Error).self) { try GenerateCommand.parseIDs(",", index: 1) }
  }
}

extension CLITests {
  /// The default model that set-up caches.
  static let smolLM2 = fixtures.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path

  @Test("SmolLM2 answers the chat question 'What is the capital of France?' with 'The capital of France is Paris.'")
  func chatAnswer() throws {
    let (status, stdout, stderr) = try Self.run([
      "generate", "--model", Self.smolLM2, "--chat", "--prompt", "What is the capital of France?",
    ])
    #expect(status == 0, "\(stderr)")
    #expect(stdout == "The capital of France is Paris.\n")
  }

  @Test("tokenize and detokenize round-trip through the model's embedded tokenizer")
  func tokenizeDetokenize() throws {
    let (status, stdout, _) = try Self.run(["tokenize", "--model", Self.smolLM2, "--text", "Hello world", "--json"])
    #expect(status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
    #expect(object["ids"] as? [Int] == [19556, 905])
    #expect(object["tokens"] as? [String] == ["Hello", "Ġworld"])
    let back = try Self.run(["detokenize", "--model", Self.smolLM2, "--ids", "19556,905"])
    #expect(back.0 == 0 && back.1 == "Hello world\n")
  }

  /// `bench throughput` on SmolLM2's random dataset with `args`: its stdout and its --output-json.
  static func benchThroughput(_ args: [String]) throws -> (stdout: String, json: [String: Any]) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-bench-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: out) }
    let (status, stdout, stderr) = try Self.run(
      ["bench", "throughput", "--model", Self.smolLM2, "--dataset", "random", "--output-json", out.path] + args)
    #expect(status == 0, "\(stderr)")
    return (stdout, try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any])
  }

  @Test("bench throughput of one output token per request (no decode step) reports its decode figures as 0")
  func benchWithoutDecodeSteps() throws {
    let (stdout, json) = try Self.benchThroughput([
      "--input-len", "16", "--output-len", "1", "--num-prompts", "4", "--kv-cache-dtype", "bf16",
    ])
    #expect(stdout.contains("Roofline"), "\(stdout)")
    #expect(json["kv_cache_dtype"] as? String == "bf16")
    #expect(json["num_decode_steps"] as? Int == 0)
    #expect(json["read_probe_samples"] as? Int == 0)
    #expect(json["decode_step_ms"] as? Double == 0)
    #expect((json["prefill_step_ms"] as? Double ?? 0) > 0)
  }

  @Test("bench throughput holds decode against read-probe passes between its decode steps")
  func benchReadProbeBetweenSteps() throws {
    let (stdout, json) = try Self.benchThroughput(["--input-len", "8", "--output-len", "4", "--num-prompts", "2"])
    let samples = json["read_probe_samples"] as? Int ?? 0
    let read = json["read_gbps_between_decode_steps"] as? Double ?? 0
    #expect((json["num_decode_steps"] as? Int ?? 0) >= 1 && samples >= 1 && read > 0, "\(json)")
    let decode = json["decode_gbps"] as? Double ?? 0, share = json["decode_share_of_read_bandwidth"] as? Double ?? 0
    #expect(decode > 0 && abs(share - decode / read) < 1e-9 * share, "\(json)")
    #expect(stdout.contains("read probe between decode steps, \(samples) passes"), "\(stdout)")
  }

  @Test("bench forward reports decode against the read probe between its steps, and refuses zero decode steps")
  func benchForward() throws {
    let args = ["bench", "forward", "--model", Self.smolLM2, "--prefill-tokens", "8", "--context", "16"]
    let (status, stdout, stderr) = try Self.run(args + ["--batch-sizes", "1,2", "--decode-steps", "5"])
    #expect(status == 0, "\(stderr)")
    #expect(stdout.contains("decode batch   1:") && stdout.contains("decode batch   2:"), "\(stdout)")
    #expect(stdout.components(separatedBy: "GB/s between steps").count == 3, "\(stdout)")
    let refused = try Self.run(args + ["--decode-steps", "0"])
    #expect(refused.0 != 0 && refused.2.contains("--decode-steps must be positive"), "\(refused.2)")
  }

  @Test("bench attention over several layers' K/V reports per-layer decode times, and refuses zero layers")
  func benchAttentionLayers() throws {
    let args = [
      "bench", "attention", "--prefill-tokens", "16", "--batch-sizes", "2", "--contexts", "40", "--repeats", "1",
    ]
    let (status, stdout, stderr) = try Self.run(args + ["--layers", "3"])
    #expect(status == 0, "\(stderr)")
    #expect(stdout.contains("3 layers"), "\(stdout)")
    #expect(stdout.contains("decode batch   2, context    40"), "\(stdout)")
    let bf16 = try Self.run(args + ["--layers", "2", "--kv-cache-dtype", "bf16"])
    #expect(bf16.0 == 0 && bf16.1.contains("2 layers, bf16 K/V"), "\(bf16.1) \(bf16.2)")
    let refused = try Self.run(args + ["--layers", "0"])
    #expect(refused.0 != 0 && refused.2.contains("--layers must be positive, not 0"), "\(refused.2)")
  }

  @Test("bench matmul refuses a K that a format's blocks do not divide, before it measures anything")
  func benchMatmulWholeBlocks() throws {
    let (status, _, stderr) = try Self.run(["bench", "matmul", "--m", "1", "--k", "576", "--dtypes", "q4_1,q4_K"])
    #expect(status != 0 && stderr.contains("Q4_K stores rows in blocks of 256, --k 576 is not a multiple"), "\(stderr)")
  }

  @Test("simulate and plan model the K/V dtype they are given, and name a bad one")
  func simulatedKVCacheDType() throws {
    let args = ["simulate", "--model", "llama3-8b", "--hardware", "1xA10", "--plan", "tp1", "--num-prompts", "32"]
    func elapsed(_ extra: [String]) throws -> Double {
      let out = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-sim-\(UUID().uuidString).json")
      defer { try? FileManager.default.removeItem(at: out) }
      let (status, _, stderr) = try Self.run(args + extra + ["--output-json", out.path])
      #expect(status == 0, "\(stderr)")
      let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
      return try #require(json["elapsed_time"] as? Double)
    }
    // A10s compute in FP16: auto and bf16 store 2 bytes per value, f32 twice that.
    let auto = try elapsed([])
    let (bf16, f32) = (try elapsed(["--kv-cache-dtype", "bf16"]), try elapsed(["--kv-cache-dtype", "f32"]))
    #expect(auto == bf16 && f32 > auto, "auto \(auto) s, bf16 \(bf16) s, f32 \(f32) s")
    let plan = try Self.run(["plan", "--model", "llama3-8b", "--hardware", "2xA10", "--kv-cache-dtype", "fp8"])
    #expect(plan.0 != 0 && plan.2.contains("--kv-cache-dtype must be auto, f32 or bf16, not 'fp8'"), "\(plan.2)")
  }

  @Test("calibrate refuses more tensor-parallel shards than ranks before loading anything")
  func calibrateTensorParallelBound() throws {
    let (status, _, stderr) = try Self.run(["calibrate", "--ranks", "2", "--tensor-parallel", "3"])
    #expect(status != 0 && stderr.contains("--tensor-parallel must be between 1 and --ranks (2), not 3"), "\(stderr)")
  }
}

extension CLITests {
  @Test("generate --input writes one result per line in input order, bad lines as errors, good ones untouched")
  func inputFile() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.jsonl")
    let lines = [
      #"{"messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 20}"#,
      "not json",
      #"{"prompt": "The capital of France is", "max_tokens": 4, "stop": ["."]}"#,
      #"{"prompt": "x", "top_p": 7}"#,
      #"{"prompt_token_ids": [504, 3575], "temperature": 0.8, "seed": 3, "n": 2, "max_tokens": 5, "logprobs": 1}"#,
    ]
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
    let (status, _, stderr) = try Self.run([
      "generate", "--model", Self.smolLM2, "--input", input.path, "--output", output.path,
    ])
    #expect(status == 0, "\(stderr)")
    let results = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    #expect(results.map { $0["index"] as? Int } == [0, 1, 2, 3, 4])
    let chat = (results[0]["outputs"] as! [[String: Any]])[0]
    #expect(chat["text"] as? String == "The capital of France is Paris." && chat["finish_reason"] as? String == "stop")
    #expect((results[1]["error"] as? String)?.contains("in.jsonl:2") == true)
    let stopped = (results[2]["outputs"] as! [[String: Any]])[0]
    #expect(stopped["text"] as? String == " Paris" && stopped["finish_reason"] as? String == "stop")
    #expect((results[3]["error"] as? String)?.contains("top_p") == true)
    let sampled = results[4]["outputs"] as! [[String: Any]]
    #expect(sampled.count == 2 && sampled.allSatisfy { ($0["logprobs"] as? [Any])?.count == 5 })
  }
}

extension CLITests {
  @Test("perplexity --text-file tokenizes the fixed text like transformers and matches its mean log-likelihood")
  func perplexityTextFile() throws {
    let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("loglik/smollm2-golden.json"))
    let golden = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let text = Self.fixtures.appendingPathComponent("loglik/declaration-of-independence.txt").path
    let (status, stdout, stderr) = try Self.run([
      "perplexity", "--model", Self.smolLM2, "--text-file", text, "--max-tokens", "512", "--json",
    ])
    #expect(status == 0, "\(stderr)")
    let result = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
    #expect(result["num_tokens"] as? Int == 512 && result["num_scored"] as? Int == 511)
    let mean = try #require(result["mean_log_likelihood"] as? Double)
    #expect(abs(mean - (golden["mean_log_likelihood"] as! Double)) < 1e-4)
    #expect((result["log_likelihoods"] as? [Double])?.count == 511)
  }

  @Test("perplexity --token-ids-file prints tokens scored, mean log-likelihood, perplexity and speed")
  func perplexityTokenIDs() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ids = dir.appendingPathComponent("ids.txt"), bad = dir.appendingPathComponent("bad.txt")
    try Data("[504, 3575, 282,\n 4649, 314]\n".utf8).write(to: ids)
    try Data("504 x 282".utf8).write(to: bad)
    let (status, stdout, stderr) = try Self.run([
      "perplexity", "--model", Self.smolLM2, "--token-ids-file", ids.path, "--chunk", "2",
    ])
    #expect(status == 0, "\(stderr)")
    let lines = stdout.split(separator: "\n").map(String.init)
    #expect(lines.contains("tokens: 5 (4 scored), chunk 2"))
    #expect(lines.contains { $0.hasPrefix("mean log-likelihood: -") })
    #expect(lines.contains { $0.hasPrefix("perplexity: ") } && lines.contains { $0.hasSuffix("tokens/s)") })
    let failed = try Self.run(["perplexity", "--model", Self.smolLM2, "--token-ids-file", bad.path])
    #expect(failed.0 != 0 && failed.2.contains("'x' is not a token id"))
    let both = try Self.run(["perplexity", "--model", Self.smolLM2])
    #expect(both.0 != 0 && both.2.contains("exactly one of --text-file, --token-ids-file and --reference"))
  }

  @Test("convert --dtype bf16 writes a BF16 directory that generate runs; other types are refused")
  func convertBF16() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-cli-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = Self.fixtures.appendingPathComponent("tiny-llama-untied").path
    let (status, stdout, stderr) = try Self.run(["convert", "--model", model, "--output", dir.path, "--dtype", "bf16"])
    #expect(status == 0 && stdout.contains("(bf16)"), "\(stderr)")
    let weights = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
    let headerLength = Int(weights.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    let header = String(decoding: weights.dropFirst(8).prefix(headerLength), as: UTF8.self)
    #expect(header.contains("\"dtype\":\"BF16\"") && !header.contains("\"dtype\":\"F32\""))
    let run = try Self.run(["generate", "--model", dir.path, "--prompt-ids", "1,2,3", "--max-tokens", "3", "--json"])
    #expect(run.0 == 0 && run.1.contains("\"token_ids\""), "\(run.2)")
    let refused = try Self.run(["convert", "--model", model, "--output", dir.path, "--dtype", "f16"])
    #expect(refused.0 != 0 && refused.2.contains("f16"))
  }
}
