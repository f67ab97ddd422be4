import SeesawParallel
import SeesawSim

/// Runs each scheduled step on a modelled cluster instead of kernels: the step's time comes from the cost model on
/// a virtual clock, and the scheduler, block managers and phase plans are the engine's own. Sampled tokens are
/// placeholders (simulated workloads fix output lengths with ignore_eos).
///
///     step time = switch (re-shard)  +  evictions and swap-ins  +  max(forward pass, swap-outs and prefetches)
///                 + sampling on the driver
public final class SimulatedExecutor: Executor {
  public let cost: CostModel
  public let plan: PhasePlan
  /// The layout whose weights are on the devices.
  public private(set) var phase = Phase.prefill
  /// Virtual seconds of all steps so far, and of the switches among them.
  public private(set) var clock = 0.0
  public private(set) var reshardSeconds = 0.0
  private var pending: SchedulerOutput?

  public init(cost: CostModel, plan: PhasePlan) {
    self.cost = cost
    self.plan = plan
  }

  public var isVirtual: Bool { true }

  public func submit(_ output: SchedulerOutput) {
    pending = output
  }

  public func collect() -> StepOutput {
    guard let output = pending else { preconditionFailure("no step submitted") }
    pending = nil
    let layout = plan.layout(output.phase)
    var seconds = 0.0
    if !plan.isStatic && output.phase != phase {
      let t = cost.reshardSeconds(to: layout)
      reshardSeconds += t
      seconds += t
    }
    phase = output.phase
    let sync = (output.evictions + output.swapIns).reduce(0) { $0 + $1.numTokens }
    let behind = (output.prefetches + output.swapOuts).reduce(0) { $0 + $1.numTokens }
    let groups = ParallelExecutor.microBatches(output.sequences.map(\.tokenIDs.count), pp: layout.pp)
    let work = groups.map { group in
      group.map { piece -> SequenceWork in
        let s = output.sequences[piece.sequence]
        return SequenceWork(
          newTokens: piece.tokens.count, contextTokens: s.startPosition + piece.tokens.upperBound,
          samples: !s.samples.isEmpty && piece.tokens.upperBound == s.tokenIDs.count)
      }
    }
    let forward = cost.stepSeconds(work, layout: layout)
    seconds +=
      cost.swapSeconds(tokens: sync, layout: plan.decode)
      + max(forward, cost.swapSeconds(tokens: behind, layout: layout))
    let sampled = output.sequences.flatMap { seq in
      seq.samples.map { StepOutput.Sampled(sequenceID: $0.sequenceID, token: 0, logprobs: nil) }
    }
    let sampling = cost.sampleSeconds(rows: sampled.count)
    clock += seconds + sampling
    return StepOutput(sampled: sampled, forwardSeconds: seconds, sampleSeconds: sampling)
  }
}
