import CMPI
import Foundation

/// Ranks that are processes of an MPI job (`mpirun -np N seesaw ...`), over Open MPI. Make the world with
/// `MPICommunicator.world(timeout:)` in each process and end with `finalize()`; `isLaunchedByMPI` tells whether the
/// process runs under mpirun at all, so the same binary run alone never touches MPI.
///
/// Every wait is a non-blocking MPI call (MPI_Iallreduce, MPI_Improbe, ...) polled until the communicator's
/// timeout, so a rank whose peer died throws `timeout` instead of hanging. A rank that dies usually ends the job
/// sooner: mpirun tears down every rank when one exits without finalising. After a timeout the communicator is
/// broken (MPI may still write into the buffers of the call that timed out): later calls rethrow the timeout, and
/// the caller should `abort`.
///
/// `abort` ends every process of the job (MPI_Abort) instead of making the other ranks throw `aborted`.
public final class MPICommunicator: Communicator, @unchecked Sendable {
  public let rank: Int
  public let size: Int
  /// Seconds every wait may take.
  public let timeout: Double
  let comm: MPI_Comm?
  let runtime = MPIRuntime.shared
  /// Whether `comm` is ours to free (split groups; the world belongs to MPI).
  private let ownsComm: Bool
  /// Touched only by the owning rank's thread, like `failure`.
  private var counters = CommunicatorStats()
  /// The timeout that broke this communicator, rethrown by later calls.
  private var failure: CommunicatorError?

  init(comm: MPI_Comm?, ownsComm: Bool, timeout: Double) throws {
    self.comm = comm
    self.ownsComm = ownsComm
    self.timeout = timeout
    var rank: Int32 = 0, size: Int32 = 0
    try runtime.call("communicator") {
      try checkMPI(MPI_Comm_set_errhandler(comm, cmpi_errors_return()), "set error handler")
      try checkMPI(MPI_Comm_rank(comm, &rank), "rank")
      try checkMPI(MPI_Comm_size(comm, &size), "size")
    }
    self.rank = Int(rank)
    self.size = Int(size)
  }

  deinit {
    guard ownsComm else { return }
    var comm = self.comm
    runtime.callIfInitialized { _ = MPI_Comm_free(&comm) }
  }

  /// True when mpirun (Open MPI or another PMIx launcher) started this process.
  public static var isLaunchedByMPI: Bool {
    let environment = ProcessInfo.processInfo.environment
    return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
  }

  /// All ranks of the job (MPI_COMM_WORLD), initialising MPI on the first call; every wait gives up after
  /// `timeout` seconds.
  public static func world(timeout: Double = 600) throws -> MPICommunicator {
    try MPIRuntime.shared.initialize()
    return try MPICommunicator(comm: cmpi_comm_world(), ownsComm: false, timeout: timeout)
  }

  /// Completes this process's pending sends (waiting at most the timeout for their receivers), then finalises MPI.
  /// Every communicator of the process is unusable afterwards. Call it once per process, on every rank.
  public func finalize() throws {
    try runtime.finalize(rank: rank, seconds: timeout)
  }

  public var stats: CommunicatorStats { counters }

  public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
    try guarded {
      counters.allReduceBytes += count * 4
      counters.numAllReduces += 1
      // Open MPI's non-blocking schedules (binomial reduce + broadcast, ring, reduce-scatter + all-gather) sum each
      // element on one rank and pass the result on, so all ranks get the same bits; the self-test checks it.
      let n = try mpiCount(count, "all-reduce")
      var request: MPI_Request?
      try runtime.call("all-reduce") {
        try checkMPI(MPI_Iallreduce(cmpi_in_place(), buffer, n, cmpi_float(), cmpi_sum(), comm, &request), "all-reduce")
      }
      try wait(&request, "all-reduce")
    }
  }

  public func allGather(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) throws {
    try guarded {
      let n = try mpiCount(count, "all-gather")
      var request: MPI_Request?
      try runtime.call("all-gather") {
        try checkMPI(
          MPI_Iallgather(input, n, cmpi_float(), output, n, cmpi_float(), comm, &request), "all-gather")
      }
      try wait(&request, "all-gather")
    }
  }

  public func broadcast(_ data: inout [UInt8], root: Int) throws {
    try checkRank(root, "broadcast")
    try guarded {
      // Non-roots do not know the size: the length goes first.
      var length = Int64(rank == root ? data.count : 0)
      try broadcast(&length, count: 1, type: cmpi_int64(), root: root)
      if rank != root { data = [UInt8](repeating: 0, count: Int(length)) }
      guard length > 0 else { return }
      let n = try mpiCount(Int(length), "broadcast")
      try data.withUnsafeMutableBytes { try broadcast($0.baseAddress!, count: n, type: cmpi_byte(), root: root) }
    }
  }

  public func barrier() throws {
    try guarded {
      var request: MPI_Request?
      try runtime.call("barrier") { try checkMPI(MPI_Ibarrier(comm, &request), "barrier") }
      try wait(&request, "barrier")
    }
  }

  public func split(color: Int, key: Int) throws -> Communicator {
    try guarded {
      // Gather every rank's (color, key) with a bounded wait, then order the members here, exactly as
      // LocalCommunicator does (by key, then rank), and hand MPI_Comm_split a small color and the new rank as key.
      // Every rank has reached the split once the gather completes, so the blocking MPI_Comm_split returns soon.
      var all = [Int64](repeating: 0, count: 2 * size)  // [size, 2]: (color, key) per rank
      let mine = [Int64(color), Int64(key)]
      try mine.withUnsafeBufferPointer { mine in
        try all.withUnsafeMutableBufferPointer { all in
          var request: MPI_Request?
          try runtime.call("split") {
            try checkMPI(
              MPI_Iallgather(mine.baseAddress, 2, cmpi_int64(), all.baseAddress, 2, cmpi_int64(), comm, &request),
              "split")
          }
          try wait(&request, "split")
        }
      }
      let members = (0..<size).filter { all[2 * $0] == Int64(color) }
        .sorted { (all[2 * $0 + 1], $0) < (all[2 * $1 + 1], $1) }
      var newComm: MPI_Comm?
      try runtime.call("split") {
        let smallColor = Int32(members[0]), newRank = Int32(members.firstIndex(of: rank)!)
        try checkMPI(MPI_Comm_split(comm, smallColor, newRank, &newComm), "split")
      }
      return try MPICommunicator(comm: newComm, ownsComm: true, timeout: timeout)
    }
  }

  public func abort(reason: String) {
    runtime.abort(comm, message: "seesaw: rank \(rank) of \(size) aborts the MPI job: \(reason)", errorCode: 1)
  }

  // MARK: - Helpers

  func checkRank(_ r: Int, _ operation: String) throws {
    guard r >= 0 && r < size else { throw CommunicatorError.invalidRank(operation: operation, rank: r, size: size) }
  }

  /// Polls `request` until it completes or the timeout passes.
  func wait(_ request: inout MPI_Request?, _ operation: String) throws {
    try runtime.poll(operation, rank: rank, seconds: timeout) { flag in
      MPI_Test(&request, &flag, cmpi_status_ignore())
    }
  }

  /// Runs a call: rethrows an earlier timeout, completes finished sends, counts the seconds inside, and records a
  /// timeout as this communicator's failure.
  func guarded<T>(_ body: () throws -> T) throws -> T {
    if let failure { throw failure }
    let start = DispatchTime.now().uptimeNanoseconds
    defer { counters.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    do {
      try runtime.completeSends()
      return try body()
    } catch let error as CommunicatorError {
      if case .timeout = error { failure = error }
      throw error
    }
  }

  /// Counts a point-to-point send in the stats.
  func countSend(bytes: Int) {
    counters.sentBytes += bytes
    counters.numSends += 1
  }

  private func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int32, type: MPI_Datatype?, root: Int) throws {
    var request: MPI_Request?
    try runtime.call("broadcast") {
      try checkMPI(MPI_Ibcast(buffer, count, type, Int32(root), comm, &request), "broadcast")
    }
    try wait(&request, "broadcast")
  }
}
