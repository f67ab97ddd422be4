import Foundation
import SeesawModel
import SeesawParallel
import SeesawTensor

/// The ranks of a phase plan (one layout, or Seesaw's prefill and decode layouts), started either as threads of this
/// process (`local`) or as the processes of an MPI world (`join`), and the executors that drive every replica from
/// world rank 0.
///
/// Every rank, for each layout of the plan: splits off its tensor-parallel group, loads its shard (views of the
/// mapped weights) and builds its cache, with the KV block count that rank 0 decided. Worker ranks then serve
/// commands until shutdown.
public final class ParallelRuntime {
  public let plan: PhasePlan
  /// KV blocks per rank and cache (each replica's scheduler manages this many).
  public let numBlocks: Int
  /// Blocks of each replica's host KV buffer (0 for a static plan, which has none).
  public let numHostBlocks: Int
  /// One per data-parallel replica.
  public let executors: [ParallelExecutor]
  /// Rank 0's shard (the first stage of replica 0).
  public let driverModel: LlamaModel
  let world: Communicator
  private var workerThreads: [Thread] = []
  private var isShutDown = false

  init(plan: PhasePlan, world: Communicator, local: RankWorker, numHostBlocks: Int, blockSize: Int) {
    self.plan = plan
    self.world = world
    numBlocks = local.runner.cache.numBlocks
    self.numHostBlocks = numHostBlocks
    driverModel = local.runner.model
    executors = (0..<plan.dp).map {
      ParallelExecutor(
        plan: plan, replica: $0, world: world, local: $0 == 0 ? local : nil, blockSize: blockSize,
        vocabSize: local.runner.model.config.vocabSize)
    }
  }

  /// Every rank of `plan` as a thread of this process; the caller's thread is rank 0. `numBlocks` picks the KV
  /// block count from rank 0's shard; a Seesaw plan gets a host KV buffer of `numHostBlocks` per replica. Rank
  /// threads load their shards concurrently. Caches and host buffers store `kvCacheDType`.
  public static func local(
    files: ModelFiles, plan: PhasePlan, blockSize: Int = 16, kvCacheDType: KVCacheDType = .f32,
    timeout: Double = 600, makeBackend: @escaping @Sendable () -> Backend, numBlocks: (LlamaModel) -> Int,
    numHostBlocks: Int = 0
  ) throws -> ParallelRuntime {
    try validate(files: files, plan: plan)
    let world = LocalCommunicator.world(size: plan.worldSize, timeout: timeout)
    // One host buffer per replica, shared by its rank threads.
    let hosts =
      plan.isStatic
      ? []
      : (0..<plan.dp).map { _ in
        HostKVBuffer(config: files.config, numBlocks: numHostBlocks, blockSize: blockSize, dtype: kvCacheDType)
      }
    let layout = plan.prefill
    let failures = FailureList()
    var threads: [Thread] = []
    for comm in world.dropFirst() {
      let thread = Thread {
        do {
          let replica = layout.coordinates(of: comm.rank).replica
          let worker = try startRank(
            world: comm, files: files, plan: plan, blockSize: blockSize, kvCacheDType: kvCacheDType,
            backend: makeBackend(), numBlocks: { _ in 0 }, host: hosts.isEmpty ? nil : hosts[replica])
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
        world: world[0], files: files, plan: plan, blockSize: blockSize, kvCacheDType: kvCacheDType,
        backend: makeBackend(), numBlocks: numBlocks, host: hosts.first)
      let runtime = ParallelRuntime(
        plan: plan, world: world[0], local: local, numHostBlocks: plan.isStatic ? 0 : numHostBlocks,
        blockSize: blockSize)
      runtime.workerThreads = threads
      return runtime
    } catch {
      world[0].abort(reason: "rank 0: \(error)")
      // A worker's own failure explains more than rank 0's "aborted".
      throw failures.first ?? error
    }
  }

  /// Joins `world` (an MPI world) as its rank. Rank 0 gets the runtime back; every other rank serves the driver's
  /// commands until shutdown and then returns nil. A Seesaw plan's host buffer is POSIX shared memory per replica
  /// (`numHostBlocks` as rank 0 decides it). Caches and host buffers store rank 0's `kvCacheDType`.
  public static func join(
    world: Communicator, files: ModelFiles, plan: PhasePlan, blockSize: Int = 16, kvCacheDType: KVCacheDType = .f32,
    backend: Backend, numBlocks: (LlamaModel) -> Int, numHostBlocks: () -> Int = { 0 }
  ) throws -> ParallelRuntime? {
    guard world.size == plan.worldSize else {
      throw ParallelConfigError.unsplittable(
        field: "ranks", reason: "layout \(plan) needs \(plan.worldSize) ranks, the launcher started \(world.size)")
    }
    try validate(files: files, plan: plan)
    do {
      var w = ByteWriter()
      w.int(world.rank == 0 ? KVCacheDType.allCases.firstIndex(of: kvCacheDType)! : 0)
      var bytes = w.bytes
      try world.broadcast(&bytes, root: 0)
      var r = ByteReader(bytes)
      let index = try r.int()
      guard KVCacheDType.allCases.indices.contains(index) else {
        throw ExecutorError.protocolError(reason: "rank 0 chose KV cache dtype \(index)")
      }
      let dtype = KVCacheDType.allCases[index]
      let (host, hostBlocks) =
        plan.isStatic
        ? (nil, 0)
        : try sharedHostBuffer(
          world: world, files: files, plan: plan, blockSize: blockSize, dtype: dtype, numHostBlocks: numHostBlocks)
      let worker = try startRank(
        world: world, files: files, plan: plan, blockSize: blockSize, kvCacheDType: dtype, backend: backend,
        numBlocks: numBlocks, host: host)
      guard world.rank == 0 else {
        try worker.serve()
        return nil
      }
      return ParallelRuntime(plan: plan, world: world, local: worker, numHostBlocks: hostBlocks, blockSize: blockSize)
    } catch {
      world.abort(reason: "rank \(world.rank): \(error)")
      throw error
    }
  }

  /// Maps this rank's replica's host buffer: rank 0 names the segments and sizes them, each replica's first rank
  /// creates its segment, the others open it, and the names are unlinked once every rank has mapped its own.
  static func sharedHostBuffer(
    world: Communicator, files: ModelFiles, plan: PhasePlan, blockSize: Int, dtype: KVCacheDType,
    numHostBlocks: () -> Int
  ) throws -> (HostKVBuffer, Int) {
    var w = ByteWriter()
    if world.rank == 0 {
      w.int(numHostBlocks())
      w.int(Int(getpid()))
      w.int(Int(UInt32.random(in: 0...UInt32.max)))
    }
    var bytes = w.bytes
    try world.broadcast(&bytes, root: 0)
    var r = ByteReader(bytes)
    let (blocks, pid, nonce) = (try r.int(), try r.int(), try r.int())
    let replica = plan.prefill.coordinates(of: world.rank).replica
    let name = "/seesaw-kv-\(pid)-\(nonce)-\(replica)"
    let creator = world.rank == replica * plan.prefill.replicaSize
    var buffer: HostKVBuffer? = nil
    if creator {
      buffer = try HostKVBuffer.shared(
        name: name, create: true, config: files.config, numBlocks: blocks, blockSize: blockSize, dtype: dtype)
    }
    try world.barrier()
    if !creator {
      buffer = try HostKVBuffer.shared(
        name: name, create: false, config: files.config, numBlocks: blocks, blockSize: blockSize, dtype: dtype)
    }
    try world.barrier()
    if creator { HostKVBuffer.unlinkShared(name: name) }
    return (buffer!, blocks)
  }

  /// Checks every rank's shard of both layouts before any rank starts, so that a layout the model cannot take fails
  /// at once with its reason instead of leaving the other ranks waiting.
  static func validate(files: ModelFiles, plan: PhasePlan) throws {
    for layout in [plan.prefill, plan.decode] {
      try layout.validate()
      for stage in 0..<layout.pp {
        for t in 0..<layout.tp { _ = try files.shard(tp: layout.tp, pp: layout.pp, stage: stage, tpRank: t) }
      }
    }
  }

  static func startRank(
    world: Communicator, files: ModelFiles, plan: PhasePlan, blockSize: Int, kvCacheDType: KVCacheDType,
    backend: Backend, numBlocks: (LlamaModel) -> Int, host: HostKVBuffer?
  ) throws -> RankWorker {
    // Both layouts' shards (views of the mapped weights), in the same order on every rank: splits are collective.
    var models: [(Phase, ParallelConfig, LlamaModel)] = []
    for phase in plan.isStatic ? [Phase.prefill] : [.prefill, .decode] {
      let layout = plan.layout(phase)
      let c = layout.coordinates(of: world.rank)
      let group = try world.split(color: c.replica * layout.pp + c.stage, key: c.tpRank)
      let model = try files.loadShard(
        tp: layout.tp, pp: layout.pp, stage: c.stage, tpGroup: layout.tp > 1 ? group : nil, backend: backend,
        blockSize: blockSize)
      models.append((phase, layout, model))
    }
    // Rank 0 decides the block count (from its memory budget); every rank's scheduler view must agree.
    var count = ByteWriter()
    count.int(world.rank == 0 ? numBlocks(models.last!.2) : 0)
    var bytes = count.bytes
    try world.broadcast(&bytes, root: 0)
    var reader = ByteReader(bytes)
    let blocks = try reader.int()
    guard blocks > 0 else { throw ExecutorError.protocolError(reason: "rank 0 chose \(blocks) KV blocks") }
    var runners: [Phase: StageRunner] = [:]
    for (phase, layout, model) in models {
      runners[phase] = StageRunner(
        model: model, cache: model.makeCache(numBlocks: blocks, dtype: kvCacheDType), world: world, layout: layout)
    }
    if plan.isStatic { runners[.decode] = runners[.prefill] }
    return RankWorker(runners: runners, host: host)
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
