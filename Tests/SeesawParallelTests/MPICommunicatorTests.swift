import Foundation
import Testing

@testable import SeesawParallel

/// MPICommunicator on real processes: runs the built `seesaw-mpi-selftest` under mpirun (4 ranks, however many
/// cores) and reads the job's exit status and output. Serialized: concurrent jobs would only fight for the cores.
@Suite("MPI communicator", .serialized)
struct MPICommunicatorTests {
  /// How one mpirun ended.
  struct Job {
    var status: Int32
    /// stdout and stderr of every rank and of mpirun, interleaved.
    var output: String
    var seconds: Double
  }

  /// Options for 4 ranks on a small machine: allowed as root, more ranks than cores, no pinning.
  static let baseOptions = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "4"]

  /// Runs `mpirun <options> seesaw-mpi-selftest <arguments>`; kills it after `limit` seconds.
  static func mpirun(_ options: [String], selftest arguments: [String], limit: Double = 180) throws -> Job {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let mpirun = path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    let launcher = try #require(mpirun, "mpirun is not installed: run scripts/setup.sh (Debian: openmpi-bin)")
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [products, products.deletingLastPathComponent()]
      .map { $0.appendingPathComponent("seesaw-mpi-selftest") }
    let selftest = try #require(
      candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
      "seesaw-mpi-selftest is not built next to the tests (\(products.path))")

    // Output goes to a file, not a pipe: a job that hangs must not block the reader.
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-mpi-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let process = Process()
    process.executableURL = launcher
    process.arguments = options + [selftest.path] + arguments
    process.standardOutput = handle
    process.standardError = handle
    let start = Date()
    try process.run()
    while process.isRunning && Date().timeIntervalSince(start) < limit { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning {
      process.terminate()  // mpirun forwards SIGTERM to the ranks
      process.waitUntilExit()
      Issue.record("mpirun ran longer than \(limit) s")
    }
    try handle.close()
    let output = try String(contentsOf: log, encoding: .utf8)
    return Job(status: process.terminationStatus, output: output, seconds: Date().timeIntervalSince(start))
  }

  @Test("a process that mpirun did not start is not an MPI rank")
  func notLaunched() {
    #expect(!MPICommunicator.isLaunchedByMPI)
  }

  @Test("every check passes on 4 ranks over Open MPI's default transports")
  func defaultTransports() throws {
    let job = try Self.mpirun(Self.baseOptions, selftest: ["--timeout", "60"])
    #expect(job.status == 0, "\(job.output)")
    for r in 0..<4 { #expect(job.output.contains("ok rank \(r):"), "\(job.output)") }
  }

  @Test("every check passes on 4 ranks over TCP only")
  func tcpOnly() throws {
    // ob1 is the point-to-point layer that honours the btl list (others, such as UCX, bring their own transports).
    let tcp = ["--mca", "pml", "ob1", "--mca", "btl", "self,tcp"]
    let job = try Self.mpirun(Self.baseOptions + tcp, selftest: ["--timeout", "60"])
    #expect(job.status == 0, "\(job.output)")
    for r in 0..<4 { #expect(job.output.contains("ok rank \(r):"), "\(job.output)") }
  }

  @Test("a rank that dies mid-run ends the job with an error within a minute")
  func deadRank() throws {
    let job = try Self.mpirun(Self.baseOptions, selftest: ["--die-rank", "2", "--timeout", "30"])
    #expect(job.status != 0)
    #expect(job.seconds < 60)
    #expect(job.output.contains("rank 2"), "\(job.output)")
    #expect(!job.output.contains("ok rank"), "\(job.output)")
  }

  @Test("a rank that stalls makes the others time out and abort the job")
  func stalledRank() throws {
    let job = try Self.mpirun(Self.baseOptions, selftest: ["--stall-rank", "1", "--timeout", "3"])
    #expect(job.status != 0)
    #expect(job.seconds < 60)
    #expect(job.output.contains("waited more than 3.0 s"), "\(job.output)")
    #expect(job.output.contains("aborts the MPI job"), "\(job.output)")
  }
}
