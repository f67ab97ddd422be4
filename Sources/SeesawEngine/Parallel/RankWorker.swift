import Dispatch
import SeesawModel
import SeesawParallel
import SeesawTensor

/// One rank of a parallel run: its model shard and KV cache behind a `StageRunner`. Worker ranks `serve()` the
/// driver's commands until shutdown; the driver's own rank (world rank 0) is run step by step by its executor.
final class RankWorker: @unchecked Sendable {
  let runner: StageRunner
  /// The rank that schedules (world rank 0).
  static let driver = 0
  private(set) var report: RankReport

  init(runner: StageRunner) {
    self.runner = runner
    report = RankReport(rank: runner.world.rank)
  }

  var world: Communicator { runner.world }

  /// Communication counters of this rank over both of its groups.
  private var communication: CommunicatorStats {
    world.stats + (runner.model.tpGroup?.stats ?? CommunicatorStats())
  }

  /// Runs one step's micro-batches through this rank's stage. On the last stage, returns this rank's logits slice
  /// of each micro-batch, and sends it to the driver when this rank is not the driver.
  func handle(_ command: StepCommand) throws -> [Tensor?] {
    let start = DispatchTime.now().uptimeNanoseconds
    let before = communication
    for copy in command.blockCopies { runner.cache.copyBlock(Int(copy.source), to: Int(copy.destination)) }
    var slices: [Tensor?] = []
    for (i, batch) in command.microBatches.enumerated() {
      let logits = try runner.run(batch, microBatch: i)
      if let logits, world.rank != Self.driver {
        try world.send(floats: logits.data, count: logits.count, to: Self.driver, tag: MessageTag.logits + i)
      }
      slices.append(logits)
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
