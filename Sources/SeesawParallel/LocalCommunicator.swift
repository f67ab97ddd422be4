import Dispatch
import Foundation

/// Ranks that are threads of one process, sharing buffers: no launcher needed, and the deterministic stand-in for
/// MPI in tests. Make a world with `LocalCommunicator.world(size:)` and hand one communicator to each thread.
public final class LocalCommunicator: Communicator, @unchecked Sendable {
  public let rank: Int
  public var size: Int { group.size }
  let group: LocalGroup
  /// Touched only by the owning rank's thread.
  private var counters = CommunicatorStats()

  init(group: LocalGroup, rank: Int) {
    self.group = group
    self.rank = rank
  }

  /// One communicator per rank of a new group; every wait gives up after `timeout` seconds.
  public static func world(size: Int, timeout: Double = 600) -> [LocalCommunicator] {
    precondition(size > 0, "a group needs ranks")
    let group = LocalGroup(size: size, timeout: timeout)
    return (0..<size).map { LocalCommunicator(group: group, rank: $0) }
  }

  public var stats: CommunicatorStats { counters }

  public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
    try timed {
      counters.allReduceBytes += count * 4
      counters.numAllReduces += 1
      guard size > 1 else { return }
      // Every rank sums all buffers in rank order into its own scratch (so all get the same bits), waits until
      // every rank has read every buffer, then overwrites its own.
      let peers = try group.exchange(UnsafePointer(buffer), rank: rank, operation: "all-reduce")
        .map { $0 as! UnsafePointer<Float> }
      let sum = UnsafeMutablePointer<Float>.allocate(capacity: count)
      defer { sum.deallocate() }
      sum.update(from: peers[0], count: count)
      for p in peers.dropFirst() {
        for i in 0..<count { sum[i] += p[i] }
      }
      _ = try group.exchange(nil, rank: rank, operation: "all-reduce")
      buffer.update(from: sum, count: count)
    }
  }

  public func allGather(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) throws {
    try timed {
      let peers = try group.exchange(input, rank: rank, operation: "all-gather").map { $0 as! UnsafePointer<Float> }
      for (r, p) in peers.enumerated() { (output + r * count).update(from: p, count: count) }
      _ = try group.exchange(nil, rank: rank, operation: "all-gather")
    }
  }

  public func broadcast(_ data: inout [UInt8], root: Int) throws {
    try checkRank(root, "broadcast")
    let mine = data
    data = try timed {
      let all = try group.exchange(rank == root ? mine : nil, rank: rank, operation: "broadcast")
      return all[root] as! [UInt8]
    }
  }

  public func send(_ data: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
    try checkRank(destination, "send")
    try timed {
      counters.sentBytes += data.count
      counters.numSends += 1
      try group.post(Array(data), key: .init(source: rank, destination: destination, tag: tag))
    }
  }

  public func receive(from source: Int, tag: Int) throws -> [UInt8] {
    try checkRank(source, "receive")
    return try timed {
      try group.take(key: .init(source: source, destination: rank, tag: tag), operation: "receive from \(source)")
    }
  }

  public func barrier() throws {
    try timed { _ = try group.exchange(nil, rank: rank, operation: "barrier") }
  }

  public func split(color: Int, key: Int) throws -> Communicator {
    let all = try group.exchange((color, key), rank: rank, operation: "split").map { $0 as! (Int, Int) }
    let members = all.indices.filter { all[$0].0 == color }.sorted { (all[$0].1, $0) < (all[$1].1, $1) }
    // The first member makes the new group and hands it to the others through a second round.
    let made = members.first == rank ? LocalGroup(size: members.count, timeout: group.timeout) : nil
    let groups = try group.exchange(made, rank: rank, operation: "split")
    let shared = groups[members[0]] as! LocalGroup
    return LocalCommunicator(group: shared, rank: members.firstIndex(of: rank)!)
  }

  public func abort(reason: String) { group.abort(reason: reason) }

  private func checkRank(_ r: Int, _ operation: String) throws {
    guard r >= 0 && r < size else { throw CommunicatorError.invalidRank(operation: operation, rank: r, size: size) }
  }

  private func timed<T>(_ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    defer { counters.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    return try body()
  }
}

extension LocalCommunicator {
  /// Runs `body` on one new thread per communicator of a world and returns each rank's result, in rank order.
  public static func onThreads<T>(
    _ world: [Communicator], _ body: @escaping @Sendable (Communicator) throws -> T
  ) -> [Result<T, Error>] {
    let results = RankResults<T>(count: world.count)
    let done = DispatchGroup()
    for comm in world {
      done.enter()
      let thread = Thread {
        results.set(comm.rank, Result { try body(comm) })
        done.leave()
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
    done.wait()
    return results.values.map { $0! }
  }
}

/// Results of rank threads, filled in as they finish.
final class RankResults<T>: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [Result<T, Error>?]

  init(count: Int) { values = Array(repeating: nil, count: count) }

  func set(_ i: Int, _ r: Result<T, Error>) {
    lock.lock()
    values[i] = r
    lock.unlock()
  }
}
