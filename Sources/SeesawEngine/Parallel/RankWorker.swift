import Dispatch
import Foundation
import SeesawModel
import SeesawParallel
import SeesawTensor

/// One rank of a parallel run: its model shard and KV cache for each phase's layout (one for a static plan) behind
/// `StageRunner`s, and, under a Seesaw plan, its replica's host KV buffer. Worker ranks `serve()` the driver's
/// commands until shutdown; the driver's own rank (world rank 0) is run step by step by its executor.
final class RankWorker: @unchecked Sendable {
  /// The runner of each phase (the same one for both phases of a static plan).
  let runners: [Phase: StageRunner]
  let host: HostKVBuffer?
  /// The layout whose shard is active (materialised).
  private(set) var active: Phase
  /// The rank that schedules (world rank 0).
  static let driver = 0
  private(set) var report: RankReport
  /// Swap-outs run here, behind the forward pass; `swapCounters` is what they did (under `swapLock`).
  private let swapQueue: DispatchQueue
  private let swapLock = NSLock()
  private var swapCounters = (bytes: 0, seconds: 0.0)

  init(runners: [Phase: StageRunner], host: HostKVBuffer?) {
    self.runners = runners
    self.host = host
    active = .prefill
    report = RankReport(rank: runners[.prefill]!.world.rank)
    swapQueue = DispatchQueue(label: "seesaw-swap-out-\(report.rank)")
    let first = runners[.prefill]!.model
    first.backend.materialize(first.matrices)
  }

  var world: Communicator { runners[active]!.world }
  var runner: StageRunner { runners[active]! }

  /// Communication counters of this rank over all of its groups (each layout's tensor-parallel group once).
  private var communication: CommunicatorStats {
    let prefill = runners[.prefill]!, decode = runners[.decode]!
    let groups = prefill === decode ? [prefill] : [prefill, decode]
    return groups.reduce(world.stats) { $0 + ($1.model.tpGroup?.stats ?? CommunicatorStats()) }
  }

  /// Runs one step: a layout switch if the phase changed, K/V moves in (evictions, swap-ins), the micro-batches
  /// through this rank's stage, K/V moves out (swap-outs). On the last stage, returns this rank's logits slice of
  /// each micro-batch, and sends it to the driver when this rank is not the driver.
  func handle(_ command: StepCommand) throws -> [Tensor?] {
    let start = DispatchTime.now().uptimeNanoseconds
    let before = communication
    if command.phase != active { transition(to: command.phase) }
    let runner = self.runner
    if command.hasTransfers && host == nil {
      throw ExecutorError.protocolError(reason: "K/V transfers without a host buffer")
    }
    for copy in command.blockCopies { runner.cache.copyBlock(Int(copy.source), to: Int(copy.destination)) }
    // Evictions before swap-ins: a swap-in may take decode blocks that an eviction just gave up.
    for moved in [
      try move(command.evictions, toHost: true, phase: .decode),
      try move(command.swapIns, toHost: false, phase: .decode),
    ] {
      report.swappedBytes += moved.bytes
      report.swapSeconds += moved.seconds
    }
    var slices: [Tensor?] = []
    let swapping = DispatchGroup()
    // Prefetches fill fresh decode blocks (no running sequence reads them) while this step computes.
    if !command.prefetches.isEmpty { background(command.prefetches, toHost: false, phase: .decode, group: swapping) }
    for (i, batch) in command.microBatches.enumerated() {
      let logits = try runner.run(batch, microBatch: i)
      if let logits, world.rank != Self.driver {
        try world.send(floats: logits.data, count: logits.count, to: Self.driver, tag: MessageTag.logits + i)
      }
      slices.append(logits)
      // This micro-batch's finished prompts go out in the background while the next one computes.
      let out = zip(command.swapOuts, command.swapOutMicroBatches).filter { $0.1 == i }.map(\.0)
      if !out.isEmpty { background(out, toHost: true, phase: .prefill, group: swapping) }
    }
    // The step ends when its K/V is out: what remains of the copies is time the compute waits on them.
    let waitStart = DispatchTime.now().uptimeNanoseconds
    swapping.wait()
    report.computeWaitedOnSwapSeconds += Double(DispatchTime.now().uptimeNanoseconds - waitStart) / 1e9
    swapLock.lock()
    report.swappedBytes += swapCounters.bytes
    report.swapSeconds += swapCounters.seconds
    report.overlappedSwapSeconds += swapCounters.seconds
    swapCounters = (0, 0)
    swapLock.unlock()
    // Another rank may read what this one wrote (a decode rank reads every prefill stage's layers), so the driver
    // schedules nothing that depends on it until every rank has reported.
    if command.hasTransfers && world.rank != Self.driver {
      try world.send([], to: Self.driver, tag: MessageTag.transfersDone)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let used = communication - before
    if command.isDecodeOnly {
      report.decode.numSteps += 1
      report.decode.stepSeconds += seconds
      report.decode.communication = report.decode.communication + used
    } else {
      report.prefill.numSteps += 1
      report.prefill.stepSeconds += seconds
      report.prefill.communication = report.prefill.communication + used
    }
    return slices
  }

  /// Runs `move` on the swap queue, behind the forward pass.
  private func background(_ transfers: [KVTransfer], toHost: Bool, phase: Phase, group: DispatchGroup) {
    swapQueue.async(group: group) { [self] in
      // `move` throws only without a host buffer, which `handle` has ruled out for a command with transfers.
      guard let done = try? move(transfers, toHost: toHost, phase: phase) else { return }
      swapLock.lock()
      swapCounters.bytes += done.bytes
      swapCounters.seconds += done.seconds
      swapLock.unlock()
    }
  }

  /// Switches the active layout: the pipeline is drained (steps are synchronous), so the other shard's weights
  /// are materialised and its communicator groups used from now on.
  private func transition(to phase: Phase) {
    let start = DispatchTime.now().uptimeNanoseconds
    let leaving = runners[active]!.model
    let entering = runners[phase]!.model
    if leaving !== entering {
      leaving.backend.release(leaving.matrices)
      entering.backend.materialize(entering.matrices)
    }
    active = phase
    report.numTransitions += 1
    report.transitionSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  /// Copies each transfer's K/V between `phase`'s cache and the host buffer (this rank's slice of it); returns the
  /// bytes this rank moved and the seconds it took.
  private func move(_ transfers: [KVTransfer], toHost: Bool, phase: Phase) throws -> (bytes: Int, seconds: Double) {
    guard !transfers.isEmpty else { return (0, 0) }
    guard let host else { throw ExecutorError.protocolError(reason: "K/V transfers without a host buffer") }
    let start = DispatchTime.now().uptimeNanoseconds
    let r = runners[phase]!
    let shard = r.model.shard
    var bytes = 0
    for t in transfers {
      if toHost {
        host.store(
          from: r.cache, layers: shard.layers, cacheHeads: shard.kvHeads, heads: shard.ownedKVHeads,
          deviceTable: t.deviceTable, hostTable: t.hostTable, numTokens: t.numTokens)
      } else {
        host.load(
          into: r.cache, layers: shard.layers, cacheHeads: shard.kvHeads, deviceTable: t.deviceTable,
          hostTable: t.hostTable, numTokens: t.numTokens)
      }
      bytes +=
        shard.layers.count * 2 * (toHost ? shard.ownedKVHeads : shard.kvHeads).count * host.headDim * t.numTokens * 4
    }
    return (bytes, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }

  /// A worker rank's life: commands from the driver until shutdown, then the report. Any failure aborts the
  /// world, so that no rank waits for this one.
  func serve() throws {
    do {
      while true {
        let command = try StepCommand(decoding: try world.receive(from: Self.driver, tag: MessageTag.command))
        if command.kind == .shutdown { break }
        _ = try handle(command)
      }
      try world.send(report.encoded(), to: Self.driver, tag: MessageTag.report)
    } catch {
      world.abort(reason: "rank \(world.rank): \(error)")
      throw error
    }
  }
}
