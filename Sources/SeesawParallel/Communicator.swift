/// Messages and collectives among the ranks of one group (ranks 0..<size), the one protocol that in-process ranks
/// (threads, `LocalCommunicator`) and processes (MPI) both implement.
///
/// Collectives must be called by every rank of the group in the same order. Every wait is bounded by the
/// communicator's timeout, and a rank that fails calls `abort`, so that a dead peer ends the run with an error
/// instead of a hang.
public protocol Communicator: AnyObject, Sendable {
  /// This rank's number in the group.
  var rank: Int { get }
  /// Ranks in the group.
  var size: Int { get }

  /// buffer [count] = the elementwise sum of every rank's buffer; all ranks get bitwise the same result.
  func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
  /// output [size * count] = every rank's input [count], in rank order.
  func allGather(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) throws
  /// Replaces `data` on every rank by the root's.
  func broadcast(_ data: inout [UInt8], root: Int) throws
  /// Queues `data` for `destination`. Returns once the bytes are copied, never waiting for the receiver, so two
  /// ranks may send to each other before either receives.
  func send(_ data: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws
  /// The next message from `source` with `tag` (messages of one source and tag arrive in the order sent).
  func receive(from source: Int, tag: Int) throws -> [UInt8]
  /// Returns when every rank has called it.
  func barrier() throws
  /// A group of the ranks that pass the same `color`, numbered by `key` (then by rank). Every rank calls it.
  func split(color: Int, key: Int) throws -> Communicator
  /// Fails the group: waits in progress and later calls, on every rank that shares it, throw `aborted`.
  func abort(reason: String)

  /// Traffic and waiting time of this rank so far.
  var stats: CommunicatorStats { get }
}

extension Communicator {
  /// Sends a byte array.
  public func send(_ data: [UInt8], to destination: Int, tag: Int) throws {
    try data.withUnsafeBytes { try send($0, to: destination, tag: tag) }
  }

  /// Sends `count` floats.
  public func send(floats: UnsafePointer<Float>, count: Int, to destination: Int, tag: Int) throws {
    try send(UnsafeRawBufferPointer(start: floats, count: count * 4), to: destination, tag: tag)
  }

  /// Receives exactly `count` floats into `into`; a message of another size is a protocol error.
  public func receive(floats into: UnsafeMutablePointer<Float>, count: Int, from source: Int, tag: Int) throws {
    let bytes = try receive(from: source, tag: tag)
    guard bytes.count == count * 4 else {
      throw CommunicatorError.unexpectedMessage(
        source: source, tag: tag, reason: "\(bytes.count) bytes where \(count) floats were expected")
    }
    bytes.withUnsafeBytes { UnsafeMutableRawPointer(into).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
  }
}

/// Per-rank counters: bytes moved and seconds spent inside communicator calls (waiting included).
public struct CommunicatorStats: Sendable, Equatable {
  /// Bytes this rank contributed to all-reduces (count * 4 per call).
  public var allReduceBytes = 0
  public var numAllReduces = 0
  /// Bytes this rank sent point to point.
  public var sentBytes = 0
  public var numSends = 0
  /// Seconds inside communicator calls.
  public var seconds = 0.0

  public init() {}

  public static func + (a: CommunicatorStats, b: CommunicatorStats) -> CommunicatorStats {
    var s = a
    s.allReduceBytes += b.allReduceBytes
    s.numAllReduces += b.numAllReduces
    s.sentBytes += b.sentBytes
    s.numSends += b.numSends
    s.seconds += b.seconds
    return s
  }

  public static func - (a: CommunicatorStats, b: CommunicatorStats) -> CommunicatorStats {
    var s = a
    s.allReduceBytes -= b.allReduceBytes
    s.numAllReduces -= b.numAllReduces
    s.sentBytes -= b.sentBytes
    s.numSends -= b.numSends
    s.seconds -= b.seconds
    return s
  }
}

/// Failures of communication: each names the operation or peer.
public enum CommunicatorError: Error, Equatable, CustomStringConvertible {
  /// A wait exceeded the communicator's timeout (a peer is dead, stuck, or out of step).
  case timeout(operation: String, rank: Int, seconds: Double)
  /// A rank called `abort` (it failed); this rank stops too.
  case aborted(reason: String)
  /// A message did not have the expected size or form.
  case unexpectedMessage(source: Int, tag: Int, reason: String)
  /// A rank number outside the group.
  case invalidRank(operation: String, rank: Int, size: Int)
  /// The MPI library reported an error.
  case mpi(operation: String, message: String)

  public var description: String {
    switch self {
    case .timeout(let op, let rank, let seconds):
      return "rank \(rank): \(op) waited more than \(seconds) s (a peer rank died or is stuck)"
    case .aborted(let reason): return "run aborted: \(reason)"
    case .unexpectedMessage(let source, let tag, let reason): return "message from rank \(source) (tag \(tag)): \(reason)"
    case .invalidRank(let op, let rank, let size): return "\(op): rank \(rank) outside a group of \(size)"
    case .mpi(let op, let message): return "MPI \(op): \(message)"
    }
  }
}
