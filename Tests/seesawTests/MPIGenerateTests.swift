import Foundation
import Testing

/// `seesaw generate` as mpirun processes (one rank each, rank 0 drives) against the same command on one process.
@Suite("seesaw under mpirun", .serialized)
struct MPIGenerateTests {
  static let repository = CLITests.fixtures.deletingLastPathComponent().deletingLastPathComponent()
  static let smolLM2 = repository.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path

  static func mpirun() throws -> String {
    let path = try #require(
      ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) },
      "mpirun is missing: run `make setup` (Debian's openmpi-bin)")
    return path
  }

  /// `mpirun -np N [transport] seesaw ARGS`; (exit code, stdout, stderr).
  static func launch(_ np: Int, _ arguments: [String], tcpOnly: Bool = false) throws -> (Int32, String, String) {
    var options = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(np)"]
    if tcpOnly { options += ["--mca", "pml", "ob1", "--mca", "btl", "self,tcp"] }
    return try CLITests.run(arguments, launcher: try mpirun(), launcherArguments: options)
  }

  /// Completions of `generate --json`: per line, per completion, (token ids, sampled logprobs).
  static func completions(_ stdout: String) throws -> [[([Int], [Double])]] {
    try stdout.split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      return (object["outputs"] as! [[String: Any]]).map { c in
        (c["token_ids"] as! [Int], (c["logprobs"] as? [[String: Any]] ?? []).map { $0["logprob"] as! Double })
      }
    }
  }

  /// Same ids everywhere and logprobs within 1e-4.
  static func expectSame(_ got: [[([Int], [Double])]], _ expected: [[([Int], [Double])]], _ label: String) {
    #expect(got.count == expected.count, "\(label)")
    for (g, e) in zip(got.flatMap { $0 }, expected.flatMap { $0 }) {
      #expect(g.0 == e.0, "\(label): ids")
      let worst = zip(g.1, e.1).map { abs($0 - $1) }.max() ?? 0
      #expect(g.1.count == e.1.count && worst < 1e-4, "\(label): logprob off by \(worst)")
    }
  }

  @Test(
    "tiny model: ids and logprobs of tp 2/3/4, pp 2/3, tp2pp2 and dp2 processes equal one process's",
    arguments: [(2, "tp2"), (3, "tp3"), (4, "tp4"), (2, "pp2"), (3, "pp3"), (4, "tp2pp2"), (2, "dp2")])
  func tinyLayouts(np: Int, layout: String) throws {
    let model = CLITests.fixtures.appendingPathComponent("tiny-llama-untied").path
    let args = [
      "generate", "--model", model, "--prompt-ids", "1,2,3", "--prompt-ids", "7,8,9,10,11,12,13", "--prompt-ids", "5",
      "--max-tokens", "12", "--ignore-eos", "--json", "--logprobs", "3",
    ]
    let single = try CLITests.run(args)
    #expect(single.0 == 0, "\(single.2)")
    let (status, stdout, stderr) = try Self.launch(np, args + ["--parallel", layout])
    #expect(status == 0, "\(stderr)")
    #expect(stderr.contains("MPI processes"), "\(stderr)")
    Self.expectSame(try Self.completions(stdout), try Self.completions(single.1), layout)
  }

  /// SmolLM2's goldens as `generate` arguments, and one process's output for them (run once).
  static let smolLM2Run: Result<(prompts: [[String: Any]], args: [String], single: String), Error> = Result {
    let data = try Data(contentsOf: CLITests.fixtures.appendingPathComponent("smollm2-greedy.json"))
    let prompts = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["prompts"] as! [[String: Any]]
    var args = ["generate", "--model", smolLM2, "--max-tokens", "40", "--ignore-eos", "--json", "--logprobs", "1"]
    for p in prompts { args += ["--prompt-ids", (p["prompt_ids"] as! [Int]).map(String.init).joined(separator: ",")] }
    let (status, stdout, stderr) = try CLITests.run(args)
    guard status == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: stderr]) }
    return (prompts, args, stdout)
  }

  @Test(
    "SmolLM2: transformers' greedy ids and one process's logprobs (within 1e-4) from tp 2/3/4, pp 2/3/4, tp2pp2 (also over TCP only) and dp2 processes",
    arguments: [
      (2, "tp2", false), (3, "tp3", false), (4, "tp4", false), (2, "pp2", false), (3, "pp3", false), (4, "pp4", false),
      (4, "tp2pp2", false), (4, "tp2pp2", true), (2, "dp2", false),
    ])
  func smolLM2Goldens(np: Int, layout: String, tcpOnly: Bool) throws {
    let (prompts, args, single) = try Self.smolLM2Run.get()
    let (status, stdout, stderr) = try Self.launch(np, args + ["--parallel", layout], tcpOnly: tcpOnly)
    #expect(status == 0, "\(stderr)")
    let got = try Self.completions(stdout)
    #expect(got.map { $0[0].0 } == prompts.map { $0["generated_ids"] as! [Int] }, "\(layout) tcp \(tcpOnly)")
    Self.expectSame(got, try Self.completions(single), "\(layout) tcp \(tcpOnly)")
  }

  @Test("killing a worker rank mid-run ends the job non-zero with a message within a minute")
  func killedRank() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try Self.mpirun())
    process.arguments =
      ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "4", try CLITests.binary().path]
      + [
        "generate", "--model", Self.smolLM2, "--prompt-ids", "1,2,3", "--max-tokens", "4000", "--ignore-eos", "-tp",
        "2", "-pp", "2",
      ]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    let stderr = StreamCollector(err.fileHandleForReading)
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    // Wait until the ranks are generating, then kill rank 3 with SIGKILL.
    let ready = Date(timeIntervalSinceNow: 60)
    while !stderr.text.contains("KV cache") && Date() < ready && process.isRunning {
      Thread.sleep(forTimeInterval: 0.1)
    }
    #expect(stderr.text.contains("KV cache"), "\(stderr.text)")
    Thread.sleep(forTimeInterval: 1)
    let victim = try #require(Self.pid(ofRank: 3), "no process of rank 3")
    kill(victim, SIGKILL)
    let killedAt = Date()
    let deadline = Date(timeIntervalSinceNow: 60)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    #expect(!process.isRunning, "the job still runs 60 s after a rank died")
    process.waitUntilExit()
    #expect(process.terminationStatus != 0)
    #expect(stderr.text.contains("signal 9") || stderr.text.contains("rank 3"), "\(stderr.text)")
    #expect(Date().timeIntervalSince(killedAt) < 60)
  }

  /// The seesaw process of MPI rank `rank` (its environment names the rank).
  static func pid(ofRank rank: Int) -> pid_t? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
      guard let pid = pid_t(entry),
        let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), comm.hasPrefix("seesaw"),
        let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
      else { continue }
      let vars = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      if vars.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
    }
    return nil
  }
}

/// Collects a pipe's text in the background.
final class StreamCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()

  init(_ handle: FileHandle) {
    handle.readabilityHandler = { [weak self] h in
      let chunk = h.availableData
      guard let self, !chunk.isEmpty else { return }
      self.lock.lock()
      self.data.append(chunk)
      self.lock.unlock()
    }
  }

  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: data, as: UTF8.self)
  }
}

extension MPIGenerateTests {
  @Test(
    "Seesaw plans as processes (host buffer in shared memory): 100 requests equal one process's, with >= 3 transitions",
    arguments: [
      ("smollm2", 2, "pp2", "tp2"), ("tiny-llama-untied", 3, "pp3", "tp3"), ("tiny-llama-gqa-tied", 4, "tp2pp2", "tp4"),
    ])
  func seesawPlans(model: String, np: Int, prefill: String, decode: String) throws {
    let path = model == "smollm2" ? Self.smolLM2 : CLITests.fixtures.appendingPathComponent(model).path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.jsonl")
    let lines = (0..<100).map { i -> String in
      let ids = (0..<(4 + i * 7 % 23)).map { String((i * 31 + $0 * 17) % 250 + 1) }.joined(separator: ",")
      return #"{"prompt_token_ids": [\#(ids)], "max_tokens": \#(2 + i % 9), "ignore_eos": true}"#
    }
    try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
    let single = dir.appendingPathComponent("single.jsonl")
    let planned = dir.appendingPathComponent("plan.jsonl")
    // The tiny models have no tokenizer of their own; token-id prompts only need one for the output text.
    let common = ["generate", "--model", path, "--input", input.path, "--tokenizer", Self.smolLM2]
    let one = try CLITests.run(common + ["--output", single.path])
    #expect(one.0 == 0, "\(one.2)")
    // A host buffer of 24 blocks (384 tokens) and a small decode cache: transitions and evictions.
    let (status, _, stderr) = try Self.launch(
      np,
      common + [
        "--output", planned.path, "--prefill-parallel", prefill, "--decode-parallel", decode, "--num-host-blocks", "24",
        "--kv-cache-memory", model == "smollm2" ? "16MiB" : "256KiB",
      ])
    #expect(status == 0, "\(stderr)")
    #expect(try String(contentsOf: planned, encoding: .utf8) == String(contentsOf: single, encoding: .utf8))
    let transitions = stderr.split(separator: "\n").last { $0.contains("transitions") }.flatMap { line in
      line.components(separatedBy: ", ").first { $0.hasSuffix(" transitions") }.flatMap {
        Int($0.split(separator: " ")[0])
      }
    }
    #expect((transitions ?? 0) >= 3, "\(stderr)")
  }
}
