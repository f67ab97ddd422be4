import Foundation
import Testing

@testable import SeesawParallel

/// Runs `body` on one thread per communicator; results in rank order (or the first error).
func onRanks<T: Sendable>(_ comms: [Communicator], _ body: @escaping @Sendable (Communicator) throws -> T) throws -> [T] {
  try LocalCommunicator.onThreads(comms, body).map { try $0.get() }
}

@Suite("In-process communicator")
struct LocalCommunicatorTests {
  @Test("all-reduce sums every rank's buffer and every rank gets the same floats")
  func allReduce() throws {
    let sums = try onRanks(LocalCommunicator.world(size: 4)) { comm -> [Float] in
      var x = (0..<1000).map { Float($0) * 0.001 + Float(comm.rank) }
      for _ in 0..<3 { try x.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) } }
      return x
    }
    // Three rounds: sum_r (x + r) = 4x + 6, then 16x + 24, then 64x + 96.
    #expect(sums.allSatisfy { $0 == sums[0] })
    #expect(abs(sums[0][10] - (64 * 0.01 + 96)) < 1e-3)
  }

  @Test("all-gather, broadcast and barrier follow rank order")
  func gatherAndBroadcast() throws {
    let out = try onRanks(LocalCommunicator.world(size: 3)) { comm -> ([Float], [UInt8]) in
      let mine: [Float] = [Float(comm.rank), Float(comm.rank) + 0.5]
      var all = [Float](repeating: 0, count: 6)
      try mine.withUnsafeBufferPointer { m in
        try all.withUnsafeMutableBufferPointer { try comm.allGather(m.baseAddress!, count: 2, into: $0.baseAddress!) }
      }
      try comm.barrier()
      var data: [UInt8] = comm.rank == 2 ? [7, 8, 9] : []
      try comm.broadcast(&data, root: 2)
      return (all, data)
    }
    for (all, data) in out {
      #expect(all == [0, 0.5, 1, 1.5, 2, 2.5])
      #expect(data == [7, 8, 9])
    }
  }

  @Test("sends never wait for the receiver, and messages of one source and tag keep their order")
  func sendReceive() throws {
    let got = try onRanks(LocalCommunicator.world(size: 2)) { comm -> [[UInt8]] in
      let peer = 1 - comm.rank
      // Both send first, then receive: would deadlock with synchronous sends.
      for i in 0..<3 { try comm.send([UInt8(comm.rank), UInt8(i)], to: peer, tag: 5) }
      try comm.send([99], to: peer, tag: 6)
      let other = try comm.receive(from: peer, tag: 6)
      return [other] + (0..<3).map { _ in try! comm.receive(from: peer, tag: 5) }
    }
    #expect(got[0] == [[99], [1, 0], [1, 1], [1, 2]])
    #expect(got[1] == [[99], [0, 0], [0, 1], [0, 2]])
  }

  @Test("split makes sub-groups numbered by key, which reduce independently")
  func split() throws {
    let out = try onRanks(LocalCommunicator.world(size: 4)) { comm -> (Int, Int, Float) in
      let sub = try comm.split(color: comm.rank % 2, key: -comm.rank)
      var x = Float(comm.rank)
      try comm.allReduceSum(&x, count: 1)  // the world still works
      var y = Float(comm.rank)
      try sub.allReduceSum(&y, count: 1)
      return (sub.rank, sub.size, y + x * 0)
    }
    // Colors {0, 2} and {1, 3}; keys reversed, so rank 2 is rank 0 of its group.
    #expect(out.map(\.0) == [1, 1, 0, 0])
    #expect(out.map(\.1) == [2, 2, 2, 2])
    #expect(out.map(\.2) == [2, 4, 2, 4])
  }

  @Test("a receive from a silent peer times out, and an abort wakes every waiting rank")
  func timeoutAndAbort() throws {
    let comms = LocalCommunicator.world(size: 2, timeout: 0.2)
    let start = Date()
    #expect(throws: CommunicatorError.timeout(operation: "receive from 1", rank: 0, seconds: 0.2)) {
      _ = try comms[0].receive(from: 1, tag: 0)
    }
    #expect(Date().timeIntervalSince(start) < 5)

    let results = LocalCommunicator.onThreads(LocalCommunicator.world(size: 3, timeout: 60)) { comm in
      if comm.rank == 2 {
        Thread.sleep(forTimeInterval: 0.05)
        comm.abort(reason: "rank 2 failed")
      } else {
        try comm.barrier()
      }
    }
    for r in 0..<2 {
      #expect(throws: CommunicatorError.aborted(reason: "rank 2 failed")) { try results[r].get() }
    }
  }
}
