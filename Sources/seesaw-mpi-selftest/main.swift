// Checks MPICommunicator on the ranks of an mpirun job, the same checks LocalCommunicatorTests make on threads:
//
//   mpirun -np 4 seesaw-mpi-selftest [--timeout SECONDS] [--die-rank R | --stall-rank R]
//
// Every rank prints `ok rank N` once all checks pass. A failed check prints `... FAILED: <what>` and aborts the job
// (non-zero exit). With --die-rank R, rank R kills itself mid-run while the others wait in a collective: the job
// must end non-zero (mpirun tears it down; the communicator's timeout is the backstop). With --stall-rank R, rank R
// sleeps instead, which mpirun cannot notice: the others' waits time out and abort the job.
import Foundation
import SeesawParallel

/// A check that did not hold.
struct CheckFailure: Error, CustomStringConvertible {
  var description: String
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
  if !condition { throw CheckFailure(description: message()) }
}

/// The bytes rank `source` sends in the large-message check: 4 MiB that differ per sender and position.
func pattern(source: Int, count: Int = 4 << 20) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ source &* 7 &+ $0 >> 12) }
}

/// The sums agree with a double-precision reference, and every rank holds rank 0's bits.
func checkAllReduce(_ comm: MPICommunicator) throws {
  let n = Float(comm.size), t = Float(comm.size * (comm.size - 1) / 2)
  var x = (0..<1000).map { Float($0) * 0.001 + Float(comm.rank) }
  for _ in 0..<3 { try x.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: $0.count) } }
  // Three rounds: n x + t, then n^2 x + n t, then n^3 x + n^2 t.
  try expect(abs(x[10] - (n * n * n * 0.01 + n * n * t)) < 1e-3, "all-reduce: x[10] = \(x[10])")

  // Large enough for Open MPI's ring and reduce-scatter schedules, with values whose sum depends on the order.
  let count = 300_000
  var y = (0..<count).map { Float(sin(Double($0) * 0.37 + Double(comm.rank)) * 1e3) }
  try y.withUnsafeMutableBufferPointer { try comm.allReduceSum($0.baseAddress!, count: count) }
  for i in stride(from: 0, to: count, by: 997) {
    let reference = (0..<comm.size).reduce(0.0) { $0 + Double(Float(sin(Double(i) * 0.37 + Double($1)) * 1e3)) }
    try expect(abs(Double(y[i]) - reference) < 1e-2, "all-reduce: y[\(i)] = \(y[i]), expected \(reference)")
  }
  var bits = y.withUnsafeBytes { Array($0) }
  let mine = bits
  try comm.broadcast(&bits, root: 0)
  try expect(bits == mine, "all-reduce: rank \(comm.rank)'s sums differ in bits from rank 0's")
}

func checkGatherBroadcastBarrier(_ comm: MPICommunicator) throws {
  let mine: [Float] = [Float(comm.rank), Float(comm.rank) + 0.5]
  var all = [Float](repeating: -1, count: 2 * comm.size)
  try all.withUnsafeMutableBufferPointer { try comm.allGather(mine, count: 2, into: $0.baseAddress!) }
  try expect(all == (0..<comm.size).flatMap { [Float($0), Float($0) + 0.5] }, "all-gather: \(all)")
  try comm.barrier()
  var data: [UInt8] = comm.rank == comm.size - 1 ? [7, 8, 9] : [1]
  try comm.broadcast(&data, root: comm.size - 1)
  try expect(data == [7, 8, 9], "broadcast: \(data)")
  var empty: [UInt8] = comm.rank == 0 ? [] : [1, 2]
  try comm.broadcast(&empty, root: 0)
  try expect(empty.isEmpty, "broadcast of nothing: \(empty)")
}

/// Every rank sends 4 MiB to both ring neighbours before receiving (would deadlock with blocking sends), then
/// small messages whose order must hold per source and tag.
func checkSendReceive(_ comm: MPICommunicator) throws {
  let next = (comm.rank + 1) % comm.size, previous = (comm.rank + comm.size - 1) % comm.size
  let big = pattern(source: comm.rank)
  try comm.send(big, to: next, tag: 1)
  try comm.send(big, to: previous, tag: 2)
  try expect(try comm.receive(from: previous, tag: 1) == pattern(source: previous), "4 MiB from \(previous) differ")
  try expect(try comm.receive(from: next, tag: 2) == pattern(source: next), "4 MiB from \(next) differ")

  for i in 0..<3 { try comm.send([UInt8(comm.rank), UInt8(i)], to: next, tag: 5) }
  try comm.send([99], to: next, tag: 6)
  try comm.send([], to: next, tag: 7)
  try expect(try comm.receive(from: previous, tag: 6) == [99], "tag 6 from \(previous)")
  try expect(try comm.receive(from: previous, tag: 7).isEmpty, "empty message from \(previous)")
  for i in 0..<3 {
    let got = try comm.receive(from: previous, tag: 5)
    try expect(got == [UInt8(previous), UInt8(i)], "message \(i) of tag 5 from \(previous) out of order: \(got)")
  }
  try comm.flush()
  try expect(comm.stats.numSends == 7 && comm.stats.sentBytes == 2 * big.count + 7, "send stats: \(comm.stats)")
}

/// Colors by parity with reversed keys: each half is numbered from its highest rank down and reduces on its own.
func checkSplit(_ comm: MPICommunicator) throws {
  let sub = try comm.split(color: comm.rank % 2, key: -comm.rank)
  let members = Array((0..<comm.size).filter { $0 % 2 == comm.rank % 2 }.reversed())
  try expect(sub.size == members.count && sub.rank == members.firstIndex(of: comm.rank)!, "split: rank \(sub.rank)")
  var x = Float(comm.rank)
  try comm.allReduceSum(&x, count: 1)  // the world still works
  var y = Float(comm.rank)
  try sub.allReduceSum(&y, count: 1)
  try expect(y == Float(members.reduce(0, +)), "split: sub-group sum \(y)")
  try sub.barrier()
}

var timeout = 60.0
var dieRank: Int?
var stallRank: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--timeout": timeout = Double(arguments.popFirst() ?? "") ?? timeout
  case "--die-rank": dieRank = Int(arguments.popFirst() ?? "")
  case "--stall-rank": stallRank = Int(arguments.popFirst() ?? "")
  default:
    let usage = "usage: seesaw-mpi-selftest [--timeout SECONDS] [--die-rank R | --stall-rank R]\n"
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
  }
}

guard MPICommunicator.isLaunchedByMPI else {
  FileHandle.standardError.write(Data("seesaw-mpi-selftest: run me under mpirun\n".utf8))
  exit(2)
}
let world: MPICommunicator
do {
  world = try MPICommunicator.world(timeout: timeout)
} catch {
  FileHandle.standardError.write(Data("FAILED: \(error)\n".utf8))
  exit(1)
}
do {
  try checkAllReduce(world)
  if let dieRank, world.rank == dieRank {
    FileHandle.standardError.write(Data("rank \(dieRank) kills itself (--die-rank)\n".utf8))
    kill(getpid(), SIGKILL)
  }
  if let stallRank, world.rank == stallRank {
    FileHandle.standardError.write(Data("rank \(stallRank) stalls (--stall-rank)\n".utf8))
    sleep(UInt32(10 * timeout))
  }
  try checkGatherBroadcastBarrier(world)
  try checkSendReceive(world)
  try checkSplit(world)
  let stats = world.stats
  try world.finalize()
  print("ok rank \(world.rank): \(stats.numAllReduces) all-reduces, \(stats.sentBytes) bytes sent, "
    + String(format: "%.3f s in calls", stats.seconds))
} catch {
  world.abort(reason: "FAILED: \(error)")
}
