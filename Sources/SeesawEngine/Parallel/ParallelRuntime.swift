import Foundation
import SeesawModel
import SeesawParallel
import SeesawTensor

/// The ranks of a parallel layout, started either as threads of this process (`local`) or as the processes of an
/// MPI world (`join`), and the executors that drive every replica from world rank 0.
///
/// Every rank: splits off its tensor-parallel group, loads its shard (views of the mapped weights), takes the KV
/// block count that rank 0 decided, and builds its cache. Worker ranks then serve commands until shutdown.
public final class ParallelRuntime {
  public let layout: ParallelConfig
  /// KV blocks per rank (each replica's scheduler manages this many).
  public let numBlocks: Int
  /// One per data-parallel replica.
  public let executors: [ParallelExecutor]
  /// Rank 0's shard (the first stage of replica 0).
  public let driverModel: LlamaModel
  let world: Communicator
  private var workerThreads: [Thread] = []
  private var isShutDown = false

  init(layout: ParallelConfig, world: Communicator, local: RankWorker, numBlocks: Int, blockSize: Int) {
    self.layout = layout
    self.world = world
    self.numBlocks = numBlocks
    driverModel = local.runner.model
    executors = (0..<layout.dp).map {
      ParallelExecutor(
        layout: layout, replica: $0, world: world, local: $0 == 0 ? local : nil, blockSize: blockSize,
        vocabSize: local.runner.model.config.vocabSize)
    }
  }

  /// Every rank of `layout` as a thread of this process; the caller's thread is rank 0. `numBlocks` picks the KV
  /// block count from rank 0's shard. Rank threads load their shards concurrently.
  public static func local(
    files: ModelFiles, layout: ParallelConfig, blockSize: Int = 16, timeout: Double = 600,
    makeBackend: @escaping @Sendable () -> Backend, numBlocks: (LlamaModel) -> Int
  ) throws -> ParallelRuntime {
    try validate(files: files, layout: layout)
    let world = LocalCommunicator.world(size: layout.worldSize, timeout: timeout)
    let failures = FailureList()
    var threads: [Thread] = []
    for comm in world.dropFirst() {
      let thread = Thread {
        do {
          let worker = try startRank(
            world: comm, files: files, layout: layout, blockSize: blockSize, backend: makeBackend(), numBlocks: { _ in 0 })
          try worker.serve()
        } catch {
          failures.append(ExecutorError.rankFailed(rank: comm.rank, reason: "\(error)"))
          comm.abort(reason: "rank \(comm.rank): \(error)")
        }
      }
      thread.name = "seesaw-rank-\(comm.rank)"
      thread.stackSize = 8 << 20
      threads.append(thread)
      thread.start()
    }
    do {
      let local = try startRank(
        world: world[0], files: files, layout: layout, blockSize: blockSize, backend: makeBackend(),
        numBlocks: numBlocks)
      let runtime = ParallelRuntime(
        layout: layout, world: world[0], local: local, numBlocks: local.runner.cache.numBlocks, blockSize: blockSize)
      runtime.workerThreads = threads
      return runtime
    } catch {
      world[0].abort(reason: "rank 0: \(error)")
      // A worker's own failure explains more than rank 0's "aborted".
      throw failures.first ?? error
    }
  }

  /// Joins `world` (an MPI world) as its rank. Rank 0 gets the runtime back; every other rank serves the driver's
  /// commands until shutdown and then returns nil.
  public static func join(
    world: Communicator, files: ModelFiles, layout: ParallelConfig, blockSize: Int = 16, backend: Backend,
    numBlocks: (LlamaModel) -> Int
  ) throws -> ParallelRuntime? {
    guard world.size == layout.worldSize else {
      throw ParallelConfigError.unsplittable(
        field: "ranks", reason: "layout \(layout) needs \(layout.worldSize) ranks, the launcher started \(world.size)")
    }
    try validate(files: files, layout: layout)
    do {
      let worker = try startRank(
        world: world, files: files, layout: layout, blockSize: blockSize, backend: backend, numBlocks: numBlocks)
      guard world.rank == 0 else {
        try worker.serve()
        return nil
      }
      return ParallelRuntime(
        layout: layout, world: world, local: worker, numBlocks: worker.runner.cache.numBlocks, blockSize: blockSize)
    } catch {
      world.abort(reason: "rank \(world.rank): \(error)")
      throw error
    }
  }

  /// Checks every rank's shard before any rank starts, so that a layout the model cannot take fails at once with
  /// its reason instead of leaving the other ranks waiting.
  static func validate(files: ModelFiles, layout: ParallelConfig) throws {
    try layout.validate()
    for stage in 0..<layout.pp {
      for t in 0..<layout.tp { _ = try files.shard(tp: layout.tp, pp: layout.pp, stage: stage, tpRank: t) }
    }
  }

  static func startRank(
    world: Communicator, files: ModelFiles, layout: ParallelConfig, blockSize: Int, backend: Backend,
    numBlocks: (LlamaModel) -> Int
  ) throws -> RankWorker {
    let c = layout.coordinates(of: world.rank)
    let group = try world.split(color: c.replica * layout.pp + c.stage, key: c.tpRank)
    let model = try files.loadShard(
      tp: layout.tp, pp: layout.pp, stage: c.stage, tpGroup: layout.tp > 1 ? group : nil, backend: backend,
      blockSize: blockSize)
    // Rank 0 decides the block count (from its memory budget); every rank's scheduler view must agree.
    var count = ByteWriter()
    count.int(world.rank == 0 ? numBlocks(model) : 0)
    var bytes = count.bytes
    try world.broadcast(&bytes, root: 0)
    var reader = ByteReader(bytes)
    let blocks = try reader.int()
    guard blocks > 0 else { throw ExecutorError.protocolError(reason: "rank 0 chose \(blocks) KV blocks") }
    return RankWorker(
      runner: StageRunner(model: model, cache: model.makeCache(numBlocks: blocks), world: world, layout: layout))
  }

  /// Stops every worker rank and returns all ranks' reports, ordered by rank. Call once, at the end of the run.
  public func shutdown() throws -> [RankReport] {
    precondition(!isShutDown, "shut down twice")
    isShutDown = true
    let reports = try executors.flatMap { try $0.shutdown() }
    for thread in workerThreads {
      while !thread.isFinished { Thread.sleep(forTimeInterval: 0.001) }
    }
    return reports.sorted { $0.rank < $1.rank }
  }

  /// Ends a failed run: wakes every rank that waits on this one.
  public func abort(reason: String) { world.abort(reason: reason) }
}

/// Errors of rank threads, for the caller's message.
final class FailureList: @unchecked Sendable {
  private let lock = NSLock()
  private var errors: [Error] = []

  func append(_ error: Error) {
    lock.lock()
    errors.append(error)
    lock.unlock()
  }

  var first: Error? {
    lock.lock()
    defer { lock.unlock() }
    return errors.first
  }
}
