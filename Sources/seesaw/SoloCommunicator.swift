import SeesawParallel

/// One rank of a group of `size` whose collectives leave the data as they are and return at once, as if its peers
/// were infinitely fast: `seesaw calibrate` times a tensor-parallel shard alone with it. It has no peers to send to.
final class SoloCommunicator: Communicator, @unchecked Sendable {
  let rank: Int
  let size: Int

  init(rank: Int, size: Int) {
    self.rank = rank
    self.size = size
  }

  var stats: CommunicatorStats { CommunicatorStats() }

  func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
  func allGather(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) throws {}
  func broadcast(_ data: inout [UInt8], root: Int) throws {}
  func barrier() throws {}
  func split(color: Int, key: Int) throws -> Communicator { self }
  func abort(reason: String) {}

  func send(_ data: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
    throw CommunicatorError.aborted(reason: "rank \(rank) runs alone: no rank \(destination) to send to")
  }

  func receive(from source: Int, tag: Int) throws -> [UInt8] {
    throw CommunicatorError.aborted(reason: "rank \(rank) runs alone: no rank \(source) to receive from")
  }
}
