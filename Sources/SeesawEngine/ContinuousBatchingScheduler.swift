/// vLLM's baseline policy: continuous batching under a per-step token budget, running sequences first (decode
/// tokens and unfinished prompt chunks), then waiting ones in arrival order; chunked prefill optional; when blocks
/// run out, the newest running sequence is preempted by recompute (blocks freed, sequence back at the front of the
/// queue), so no request is ever lost.
public final class ContinuousBatchingScheduler: Scheduler {
  let config: EngineConfig
  public let blockManager: BlockManager
  private var waiting: [SequenceState] = []
  private var running: [SequenceState] = []
  private let sequences = SequenceRegistry()
  /// What the last `schedule()` handed out: sequence and number of tokens computed.
  private var inFlight: [(SequenceState, Int)] = []
  private var numPreemptions = 0

  public init(config: EngineConfig, numBlocks: Int) {
    self.config = config
    blockManager = BlockManager(numBlocks: numBlocks, blockSize: config.blockSize)
  }

  public var hasUnfinished: Bool { !waiting.isEmpty || !running.isEmpty }

  public var stats: SchedulerStats {
    SchedulerStats(
      numWaiting: waiting.count, numRunning: running.count, numPreemptions: numPreemptions,
      numUsedBlocks: blockManager.numUsedBlocks, numBlocks: blockManager.numBlocks)
  }

  public func add(_ request: SchedulerRequest) {
    waiting.append(sequences.register(request))
  }

  public func schedule() -> SchedulerOutput {
    var budget = config.maxNumBatchedTokens
    var scheduled: [SchedulerOutput.ScheduledSequence] = []
    var copies: [BlockCopy] = []
    var preempted: [Int] = []
    inFlight = []

    // Running sequences first, oldest first; make room by preempting the newest.
    var i = 0
    while i < running.count && budget > 0 {
      let seq = running[i]
      let numNew = min(seq.numUncomputed, budget, config.effectiveChunkSize)
      if numNew < seq.numUncomputed && !config.enableChunkedPrefill {
        i += 1
        continue
      }
      var selfPreempted = false
      while !blockManager.canAppend(table: seq.blockTable, numComputed: seq.numComputed, numNew: numNew) {
        let victim = running.removeLast()
        preempt(victim)
        preempted.append(victim.id)
        if victim === seq {
          selfPreempted = true
          break
        }
      }
      if selfPreempted { break }
      copies += blockManager.append(table: &seq.blockTable, numComputed: seq.numComputed, numNew: numNew)!
      scheduled.append(entry(seq, numNew))
      budget -= numNew
      i += 1
    }

    // Then waiting sequences in order, while nothing had to be preempted and blocks and budget last.
    while preempted.isEmpty, let seq = waiting.first, running.count < config.maxNumSeqs, budget > 0 {
      let numNew = min(seq.numUncomputed, budget, config.effectiveChunkSize)
      if numNew < seq.numUncomputed && !config.enableChunkedPrefill { break }
      guard let newCopies = blockManager.append(table: &seq.blockTable, numComputed: seq.numComputed, numNew: numNew)
      else { break }
      copies += newCopies
      waiting.removeFirst()
      running.append(seq)
      scheduled.append(entry(seq, numNew))
      budget -= numNew
    }
    return SchedulerOutput(sequences: scheduled, blockCopies: copies, preemptedSequenceIDs: preempted)
  }

  /// The scheduled form of `numNew` tokens of `seq`, remembered for `update`.
  private func entry(_ seq: SequenceState, _ numNew: Int) -> SchedulerOutput.ScheduledSequence {
    inFlight.append((seq, numNew))
    return seq.scheduled(numNew: numNew)
  }

  /// Frees a sequence's blocks and queues it for recomputation.
  private func preempt(_ seq: SequenceState) {
    blockManager.free(seq.blockTable)
    seq.blockTable = []
    seq.numComputed = 0
    waiting.insert(seq, at: 0)
    numPreemptions += 1
  }

  public func update(_ output: StepOutput) -> [SequenceUpdate] {
    for (seq, numNew) in inFlight {
      seq.numComputed += numNew
      // A completed prompt with pending samples: they start from a fork of its blocks, right after it.
      if !seq.pendingForks.isEmpty && seq.numComputed == seq.numTokens,
        let at = running.firstIndex(where: { $0 === seq })
      {
        for (k, child) in seq.pendingForks.enumerated() {
          child.blockTable = blockManager.fork(seq.blockTable)
          child.numComputed = seq.numComputed
          running.insert(child, at: at + 1 + k)
        }
        seq.pendingForks = []
      }
    }
    inFlight = []
    let (updates, finished) = sequences.apply(output.sampled)
    for seq in finished { release(seq) }
    return updates
  }

  public func finish(sequenceID: Int, reason: FinishReason) {
    guard let seq = sequences[sequenceID], !seq.isFinished else { return }
    seq.finishReason = reason
    release(seq)
  }

  private func release(_ seq: SequenceState) {
    blockManager.free(seq.blockTable)
    seq.blockTable = []
    running.removeAll { $0 === seq }
    waiting.removeAll { $0 === seq }
    sequences.remove(seq)
  }
}
