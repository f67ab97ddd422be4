import Dispatch
import SeesawModel
import SeesawParallel
import SeesawTensor

/// Drives one data-parallel replica from the driver (world rank 0): sends each step to the replica's ranks as a
/// `StepCommand` in the layout of the step's phase, runs the driver's own rank when it belongs to the replica,
/// gathers the last stage's logits slices into full rows, and samples. Logits are gathered whole (vocab floats per
/// sampling sequence), so sampling is exactly the one-rank sampler's.
public final class ParallelExecutor: Executor {
  public let plan: PhasePlan
  public let replica: Int
  let world: Communicator
  /// The driver's own rank, when it is part of this replica.
  let local: RankWorker?
  let blockSize: Int
  let vocabSize: Int
  private var pending: (output: SchedulerOutput, command: StepCommand, start: UInt64)?

  init(plan: PhasePlan, replica: Int, world: Communicator, local: RankWorker?, blockSize: Int, vocabSize: Int) {
    self.plan = plan
    self.replica = replica
    self.world = world
    self.local = local
    self.blockSize = blockSize
    self.vocabSize = vocabSize
  }

  /// World ranks of this replica (the same under both layouts).
  var ranks: Range<Int> { replica * plan.prefill.replicaSize..<(replica + 1) * plan.prefill.replicaSize }

  public func submit(_ output: SchedulerOutput) throws {
    precondition(pending == nil, "a step is already submitted")
    let layout = plan.layout(output.phase)
    let groups = Self.microBatches(output.sequences.map(\.tokenIDs.count), pp: layout.pp)
    var command = StepCommand(
      kind: .step, isDecodeOnly: output.sequences.allSatisfy(\.isDecode), blockCopies: output.blockCopies,
      microBatches: groups.map { output.forwardBatch($0, blockSize: blockSize) })
    command.phase = output.phase
    (command.evictions, command.swapIns, command.prefetches, command.swapOuts) =
      (output.evictions, output.swapIns, output.prefetches, output.swapOuts)
    var microBatchOf: [Int: Int32] = [:]
    for (i, group) in groups.enumerated() {
      for piece in group { microBatchOf[output.sequences[piece.sequence].sequenceID] = Int32(i) }  // the last piece's
    }
    command.swapOutMicroBatches = output.swapOuts.map { microBatchOf[$0.sequenceID] ?? Int32(groups.count - 1) }
    let start = DispatchTime.now().uptimeNanoseconds
    let bytes = command.encoded()
    for r in ranks where r != world.rank { try world.send(bytes, to: r, tag: MessageTag.command) }
    pending = (output, command, start)
  }

  public func collect() throws -> StepOutput {
    guard let (output, command, start) = pending else { preconditionFailure("no step submitted") }
    pending = nil
    let layout = plan.layout(command.phase)
    let vocabSlices = Partition.even(vocabSize, parts: layout.tp)!
    let before = local?.report
    let mine = try local?.handle(command)
    // [sampling sequences, vocab]: each micro-batch's rows, each rank's columns.
    let numRows = command.microBatches.reduce(0) { $0 + $1.logitRows.count }
    let logits = Tensor(uninitialized: [numRows, vocabSize])
    var row0 = 0
    for (i, batch) in command.microBatches.enumerated() {
      let rows = batch.logitRows.count
      for (t, columns) in vocabSlices.enumerated() {
        let source = layout.rank(of: RankCoordinates(replica: replica, stage: layout.pp - 1, tpRank: t))
        let slice: Tensor  // [rows, columns.count]
        if source == world.rank, let own = mine?[i] {
          slice = own
        } else {
          slice = Tensor(uninitialized: [rows, columns.count])
          try world.receive(floats: slice.data, count: slice.count, from: source, tag: MessageTag.logits + i)
        }
        for r in 0..<rows {
          (logits.row(row0 + r) + columns.lowerBound).update(from: slice.row(r), count: columns.count)
        }
      }
      row0 += rows
    }
    if command.hasTransfers {
      for r in ranks where r != world.rank { _ = try world.receive(from: r, tag: MessageTag.transfersDone) }
    }
    let forwardEnd = DispatchTime.now().uptimeNanoseconds
    let sampled = output.drawSamples(logits: logits)
    let end = DispatchTime.now().uptimeNanoseconds
    var result = StepOutput(
      sampled: sampled, forwardSeconds: Double(forwardEnd - start) / 1e9, sampleSeconds: Double(end - forwardEnd) / 1e9)
    if let before, let after = local?.report {
      result.transitionSeconds = after.transitionSeconds - before.transitionSeconds
      result.swapSeconds = after.swapSeconds - before.swapSeconds
    }
    return result
  }

  /// Stops the replica's worker ranks and returns every rank's report (the driver's own included).
  func shutdown() throws -> [RankReport] {
    let bytes = StepCommand.shutdown.encoded()
    for r in ranks where r != world.rank { try world.send(bytes, to: r, tag: MessageTag.command) }
    var reports = local.map { [$0.report] } ?? []
    for r in ranks where r != world.rank {
      reports.append(try RankReport(decoding: try world.receive(from: r, tag: MessageTag.report)))
    }
    return reports
  }

  /// Splits a step's tokens (each sequence's count, in order) into at most `maxCount` micro-batches of equal tokens,
  /// so that pipeline stages work on different micro-batches at once. A long prompt chunk is cut into pieces: a
  /// later piece of a sequence is always in a later micro-batch, so every stage has written the K/V of the earlier
  /// piece before the later one attends to it.
  ///
  ///     tokens [512, 1, 1, 1, 300, 200], maxCount 2  ->  [seq 0: 0..<507] | [seq 0: 507..<512, seq 1, ..., seq 5]
  /// A step's micro-batches on `pp` stages: pp of them for decode-sized steps, more for steps of many tokens (up
  /// to 4 pp, pieces of at least `minPieceTokens`): each step fills and drains the pipeline, which k micro-batches
  /// keep busy k/(k + pp - 1) of the time, and a piece that large still computes at full speed.
  static func microBatches(_ tokens: [Int], pp: Int) -> [[MicroBatchPiece]] {
    let total = tokens.reduce(0, +)
    return microBatches(tokens, maxCount: pp == 1 ? 1 : max(pp, min(4 * pp, total / minPieceTokens)))
  }

  static let minPieceTokens = 512

  static func microBatches(_ tokens: [Int], maxCount: Int) -> [[MicroBatchPiece]] {
    let total = tokens.reduce(0, +)
    let count = min(maxCount, total)
    guard count > 0 else { return [] }
    // Micro-batch k holds the step's tokens bounds[k] ..< bounds[k + 1].
    let bounds = (0...count).map { $0 * total / count }
    var batches: [[MicroBatchPiece]] = Array(repeating: [], count: count)
    var k = 0
    var offset = 0  // of the sequence's first token in the step
    for (s, n) in tokens.enumerated() {
      var start = 0
      while start < n {
        while offset + start >= bounds[k + 1] { k += 1 }
        let end = min(n, bounds[k + 1] - offset)
        batches[k].append(MicroBatchPiece(sequence: s, tokens: start..<end))
        start = end
      }
      offset += n
    }
    return batches.filter { !$0.isEmpty }
  }
}

/// Tokens `tokens` (offsets into its scheduled tokens) of the step's sequence number `sequence`.
struct MicroBatchPiece: Equatable, Sendable {
  var sequence: Int
  var tokens: Range<Int>
}
