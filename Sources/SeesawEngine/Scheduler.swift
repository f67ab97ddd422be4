/// Decides what each engine step computes. The engine calls `schedule()`, has the executor run the result, and
/// hands the sampled tokens back through `update(_:)`; schedulers never see tensors.
public protocol Scheduler: AnyObject {
  /// Registers a request; its samples start waiting.
  func add(_ request: SchedulerRequest)
  /// The next step (empty when nothing can run).
  func schedule() -> SchedulerOutput
  /// Applies sampled tokens; returns the sequences that produced a token this step.
  func update(_ output: StepOutput) -> [SequenceUpdate]
  /// Ends a sequence early (a stop string seen by the detokenizer), freeing its blocks.
  func finish(sequenceID: Int, reason: FinishReason)
  var hasUnfinished: Bool { get }
  /// Counters for progress reports.
  var stats: SchedulerStats { get }
}

/// A tokenized request as the scheduler receives it.
public struct SchedulerRequest: Sendable {
  public var index: Int
  public var promptTokenIDs: [Int32]
  public var params: SamplingParams
  /// Token ids that end the sequence (EOS and stop ids), unless ignore_eos for EOS.
  public var stopTokenIDs: Set<Int32>
  public var seed: UInt64
}

/// One sequence's news after a step.
public struct SequenceUpdate: Sendable {
  public var sequenceID: Int
  public var requestIndex: Int
  public var sampleIndex: Int
  public var newToken: Int32
  public var outputTokenIDs: [Int32]
  public var logprobs: Sampler.Logprobs?
  public var finishReason: FinishReason?
}

public struct SchedulerStats: Sendable {
  public var numWaiting = 0
  public var numRunning = 0
  public var numPreemptions = 0
  public var numUsedBlocks = 0
  public var numBlocks = 0
  /// Phase, transitions and host-buffer use of a Seesaw scheduler.
  public var seesaw: SeesawCounters? = nil

  /// Counters of two replicas added up (the phase is the first's; transitions are the most either made).
  func merged(with b: SchedulerStats) -> SchedulerStats {
    var s = SchedulerStats(
      numWaiting: numWaiting + b.numWaiting, numRunning: numRunning + b.numRunning,
      numPreemptions: numPreemptions + b.numPreemptions, numUsedBlocks: numUsedBlocks + b.numUsedBlocks,
      numBlocks: numBlocks + b.numBlocks)
    if var c = seesaw, let d = b.seesaw {
      c.numTransitions = max(c.numTransitions, d.numTransitions)
      c.numBuffered += d.numBuffered
      c.numUsedHostBlocks += d.numUsedHostBlocks
      c.numHostBlocks += d.numHostBlocks
      c.swappedOutTokens += d.swappedOutTokens
      c.swappedInTokens += d.swappedInTokens
      c.evictedTokens += d.evictedTokens
      c.numEvictions += d.numEvictions
      c.numPreemptions += d.numPreemptions
      s.seesaw = c
    }
    return s
  }
}
