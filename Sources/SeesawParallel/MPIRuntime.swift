import CMPI
import Foundation

/// The process's MPI library, the one piece of process-wide state in this module because MPI itself is per
/// process: initialised once, finalised once, and entered by one thread at a time (MPI_THREAD_SERIALIZED, enforced
/// by `lock`), so that communicators of one process may be used from different threads without racing in MPI.
///
/// It also owns the sends still in flight (of every communicator), because their buffers must outlive the
/// communicator that started them and be complete before MPI_Finalize.
final class MPIRuntime: @unchecked Sendable {
  static let shared = MPIRuntime()

  private enum State { case uninitialized, initialized, finalized }

  /// A started MPI_Isend and the owned copy of the bytes it reads, freed once the request completes.
  private struct PendingSend {
    var request: MPI_Request?
    var buffer: UnsafeMutableRawPointer
  }

  private let lock = NSLock()
  private var state = State.uninitialized
  private var pendingSends: [PendingSend] = []

  private init() {}

  /// Initialises MPI on the first call; later calls do nothing. Throws once MPI is finalised (MPI cannot restart).
  func initialize() throws {
    lock.lock()
    defer { lock.unlock() }
    switch state {
    case .initialized: return
    case .finalized: throw CommunicatorError.mpi(operation: "init", message: "MPI was already finalized")
    case .uninitialized: break
    }
    var provided: Int32 = 0
    try checkMPI(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "init")
    state = .initialized
    guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
      throw CommunicatorError.mpi(
        operation: "init", message: "the library provides thread level \(provided), below MPI_THREAD_SERIALIZED")
    }
  }

  /// Runs `body` (MPI calls) holding the lock; throws if MPI is not initialised or already finalised.
  func call<T>(_ operation: String, _ body: () throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    guard state == .initialized else {
      throw CommunicatorError.mpi(operation: operation, message: "MPI is not initialized (or already finalized)")
    }
    return try body()
  }

  /// Runs `body` holding the lock if MPI is initialised (for cleanup that must not throw); otherwise does nothing.
  func callIfInitialized(_ body: () -> Void) {
    lock.lock()
    defer { lock.unlock() }
    if state == .initialized { body() }
  }

  /// Calls `test` until it sets its flag (it runs holding the lock, released between calls so other threads get
  /// their turn). Throws `timeout` once `seconds` have passed, leaving whatever request `test` polls in flight: the
  /// caller must then abort the run.
  func poll(_ operation: String, rank: Int, seconds: Double, _ test: (inout Int32) -> Int32) throws {
    try waitUntil(operation, rank: rank, seconds: seconds) {
      var flag: Int32 = 0
      try call(operation) { try checkMPI(test(&flag), operation) }
      return flag != 0
    }
  }

  /// Repeats `done` until it returns true, pausing between tries so a waiting rank leaves the core to the others;
  /// throws `timeout` once `seconds` have passed.
  func waitUntil(_ operation: String, rank: Int, seconds: Double, _ done: () throws -> Bool) throws {
    let start = DispatchTime.now().uptimeNanoseconds
    let deadline = start + UInt64(max(0, seconds) * 1e9)
    var backoff = PollBackoff()
    while try !done() {
      let now = DispatchTime.now().uptimeNanoseconds
      if now >= deadline { throw CommunicatorError.timeout(operation: operation, rank: rank, seconds: seconds) }
      backoff.pause(elapsedNanoseconds: now - start)
    }
  }

  /// Keeps `buffer` (allocated by the caller) alive until `request` completes, then frees it.
  func addPendingSend(_ request: MPI_Request?, buffer: UnsafeMutableRawPointer) {
    lock.lock()
    defer { lock.unlock() }
    pendingSends.append(PendingSend(request: request, buffer: buffer))
  }

  /// Frees the buffers of completed sends without waiting (called at every communicator call). Returns how many
  /// sends are still in flight.
  @discardableResult
  func completeSends() throws -> Int {
    try call("send") {
      var i = 0
      while i < pendingSends.count {
        var flag: Int32 = 0
        try checkMPI(MPI_Test(&pendingSends[i].request, &flag, cmpi_status_ignore()), "send")
        if flag != 0 {
          pendingSends[i].buffer.deallocate()
          pendingSends.swapAt(i, pendingSends.count - 1)
          pendingSends.removeLast()
        } else {
          i += 1
        }
      }
      return pendingSends.count
    }
  }

  /// Waits until every pending send of the process has completed (its receiver took it), at most `seconds`.
  func flush(rank: Int, seconds: Double) throws {
    try waitUntil("flush sends", rank: rank, seconds: seconds) { try completeSends() == 0 }
  }

  /// Completes pending sends (at most `seconds`), then finalises MPI. Later calls of any communicator throw.
  func finalize(rank: Int, seconds: Double) throws {
    try flush(rank: rank, seconds: seconds)
    try call("finalize") {
      try checkMPI(MPI_Finalize(), "finalize")
      state = .finalized
    }
  }

  /// Prints `message` to stderr and ends every process of the job through MPI_Abort (it does not return). Waits a
  /// few seconds at most for the lock, since a thread may be stuck inside MPI; aborting is allowed regardless.
  func abort(_ comm: MPI_Comm?, message: String, errorCode: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    let locked = lock.lock(before: Date(timeIntervalSinceNow: 5))
    if state == .initialized { _ = MPI_Abort(comm ?? cmpi_comm_world(), errorCode) }
    if locked { lock.unlock() }
    exit(errorCode)
  }
}

/// Throws `CommunicatorError.mpi` with MPI's own text for a failed MPI call (the communicators use
/// MPI_ERRORS_RETURN, so errors come back as codes instead of ending the job).
func checkMPI(_ code: Int32, _ operation: String) throws {
  guard code != MPI_SUCCESS else { return }
  var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
  var length: Int32 = 0
  _ = MPI_Error_string(code, &text, &length)
  let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  throw CommunicatorError.mpi(operation: operation, message: message.isEmpty ? "error code \(code)" : message)
}

/// `n` as MPI's `int` count, or an error for messages beyond 2^31 - 1 elements.
func mpiCount(_ n: Int, _ operation: String) throws -> Int32 {
  guard let count = Int32(exactly: n), count >= 0 else {
    throw CommunicatorError.mpi(operation: operation, message: "\(n) elements exceed MPI's int count")
  }
  return count
}

/// Pauses between polls of an MPI request: spins for the first 50 µs (a peer that is about to answer answers
/// fast, and each poll drives MPI's progress), yields the core until 500 µs, then sleeps 20 µs doubling up to 1 ms,
/// so that ranks sharing cores do not spin against each other during long waits. (Tuned on 2 cores with 2 and 4
/// ranks: sleeping early costs 10-100x on small all-reduces, yielding for milliseconds starves oversubscribed ranks.)
struct PollBackoff {
  private var sleepMicroseconds: UInt32 = 20

  mutating func pause(elapsedNanoseconds: UInt64) {
    if elapsedNanoseconds < 50_000 {
      return
    } else if elapsedNanoseconds < 500_000 {
      sched_yield()
    } else {
      usleep(sleepMicroseconds)
      sleepMicroseconds = min(sleepMicroseconds * 2, 1000)
    }
  }
}
