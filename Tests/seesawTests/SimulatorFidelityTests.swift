import Foundation
import Testing

/// `seesaw calibrate`, then `seesaw simulate` against a real `bench throughput` run of the same requests, and
/// `--plan auto` choosing a real run's layout from that device file.
@Suite("The simulator predicts this machine", .serialized)
struct SimulatorFidelityTests {
  static let smolLM2 = MPIGenerateTests.smolLM2

  /// A device file measured for the steps of the small run below (prompts of 64 tokens: one 1,024-token prefill
  /// step, then decode steps of 16 sequences), each device being one of `ranks` ranks; each step keeps the median
  /// of `repeats` rounds. Two ranks also measure their tensor-parallel shards in lockstep.
  static func calibrate(ranks: Int, repeats: Int = 1) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-cpu-\(UUID().uuidString).json")
      .path
    let (status, stdout, stderr) = try CLITests.run(
      [
        "calibrate", "--model", smolLM2, "--prompt-length", "64", "--step-tokens", "1", "16", "1024",
        "--contention-tokens", "16", "--ranks", "\(ranks)", "--repeats", "\(repeats)", "--output", path,
      ] + (ranks == 2 ? ["--tensor-parallel", "2"] : []))
    #expect(status == 0, "\(stderr)")
    let env = ProcessInfo.processInfo.environment["SEESAW_NUM_THREADS"].flatMap(Int.init)
    let threads = env ?? max(1, ProcessInfo.processInfo.activeProcessorCount / ranks)
    #expect(stdout.contains("(\(threads) kernel threads per rank)"), "\(stdout)")
    #expect(stdout.contains("2 ranks at once") == (ranks == 2), "\(stdout)")
    #expect(stdout.contains("2 tensor-parallel shards in lockstep") == (ranks == 2), "\(stdout)")
    #expect((try Self.json(path)["sampleSecondsPerLogit"] as? Double ?? 0) > 0)
    #expect((try Self.json(path)["attentionEfficiency"] as? Double ?? 0) > 0)
    #expect(stdout.contains("decode attention (16 sequences)"), "\(stdout)")
    let lockstep = try Self.json(path)["lockstepContention"] as? [Double]
    #expect(ranks == 2 ? lockstep?.count == 2 && lockstep?[0] == 1 && lockstep![1] > 0 : lockstep == nil)
    return path
  }

  static func json(_ path: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
  }

  @Test(
    "a small single-rank run takes the time the calibrated simulator predicts, within 25% (mean of two runs, two tries)"
  )
  func singleRank() throws {
    // The host is shared: a calibration or a run landing in a slow minute is off by a third on its own, so a second
    // attempt (a new calibration and new runs) gets its chance before the bound counts as missed.
    var errors: [String] = []
    for _ in 0..<2 {
      let (error, detail) = try Self.singleRankError()
      if error < 0.25 { return }
      errors.append(detail)
    }
    Issue.record("two attempts missed 25%: \(errors)")
  }

  /// One attempt: the relative error of the simulated elapsed time against the mean of two real runs.
  static func singleRankError() throws -> (Double, String) {
    // Three rounds: one calibration pass landing in a slow moment of the shared host was off by a third.
    let device = try Self.calibrate(ranks: 1, repeats: 3)
    defer { try? FileManager.default.removeItem(atPath: device) }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-fidelity-\(UUID().uuidString).json")
      .path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let requests = ["--num-prompts", "16"]
    var measured: [Double] = []
    for _ in 0..<2 {
      let (status, _, stderr) = try CLITests.run(
        [
          "bench", "throughput", "--model", Self.smolLM2, "--dataset", "random", "--input-len", "64", "--output-len",
          "16",
          "--output-json", out,
        ] + requests)
      #expect(status == 0, "\(stderr)")
      measured.append(try Self.json(out)["elapsed_time"] as! Double)
    }
    let (status, _, stderr) = try CLITests.run(
      [
        "simulate", "--model", Self.smolLM2, "--hardware", "1x\(device)", "--workload", "fixed:64:16", "--plan", "tp1",
        "--output-json", out,
      ] + requests)
    #expect(status == 0, "\(stderr)")
    let simulated = try Self.json(out)
    let predicted = simulated["elapsed_time"] as! Double
    let real = measured.reduce(0, +) / Double(measured.count)
    #expect(simulated["num_steps"] as? Int == 16, "one prefill step and 15 decode steps: \(simulated)")
    return (abs(predicted / real - 1), "simulated \(predicted) s vs measured \(measured) s")
  }

  @Test("bench and run-batch --plan auto ask the planner for 2 ranks on the device file and run the plan it chose")
  func planAuto() throws {
    let device = try Self.calibrate(ranks: 2)
    defer { try? FileManager.default.removeItem(atPath: device) }
    let (status, stdout, stderr) = try CLITests.run([
      "bench", "throughput", "--model", Self.smolLM2, "--dataset", "random", "--input-len", "32", "--output-len", "4",
      "--num-prompts", "4", "--plan", "auto", "--ranks", "2", "--hardware", device,
    ])
    #expect(status == 0, "\(stderr)")
    let chosen = try #require(stderr.split(separator: "\n").first { $0.contains("--plan auto chose") })
    #expect(chosen.contains("candidates"), "\(chosen)")
    // The engine runs on 2 ranks in the chosen layout and reports them.
    #expect(stderr.contains("on 2 ranks (threads)"), "\(stderr)")
    #expect(stdout.contains("Requests 4"), "\(stdout)")
    // run-batch reads its batch before the engine exists and plans for it; every line is answered.
    let batch = CLITests.fixtures.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("examples/batch.jsonl").path
    let results = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seesaw-auto-\(UUID().uuidString).jsonl"
    )
    .path
    defer { try? FileManager.default.removeItem(atPath: results) }
    let (batchStatus, _, batchErr) = try CLITests.run([
      "run-batch", "--model", Self.smolLM2, "-i", batch, "-o", results, "--plan", "auto", "--ranks", "2",
      "--hardware", device,
    ])
    #expect(batchStatus == 0 && batchErr.contains("--plan auto chose"), "\(batchErr)")
    let inputLines = try String(contentsOfFile: batch, encoding: .utf8).split(separator: "\n").count
    #expect(try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").count == inputLines)
    let (missing, _, message) = try CLITests.run([
      "bench", "throughput", "--model", Self.smolLM2, "--num-prompts", "1", "--plan", "auto", "--ranks", "2",
      "--hardware", "/nonexistent/cpu.json",
    ])
    #expect(missing != 0 && message.contains("run `seesaw calibrate` first"), "\(message)")
  }
}
