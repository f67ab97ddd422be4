import SeesawParallel

/// The transition-minimizing policy of Seesaw, behind the same `Scheduler` interface as the baseline:
///
///     prefill phase   prompt-only steps (up to maxPrefillTokens) in the prefill layout; each finished prompt's
///                     K/V moves from the prefill cache to the host buffer (swap-out)
///        | when no prompt is in progress and the next one does not fit the host buffer (or none is left)
///     decode phase    continuous batching in the decode layout, fed from the host buffer as decode blocks free up
///                     (prefetched behind a step's forward pass, joining the next step); when blocks run out, the
///                     newest running sequence moves back to the host (evicted)
///        | when prompts remain and the host buffer holds no buffered sequence, or less than the low-water share
///     prefill phase   ... (running sequences stay in the decode cache, paused, until the next decode phase)
///
/// A sequence's K/V lives in one tier at a time: prefill cache -> host buffer -> decode cache (-> host -> decode).
/// If an eviction finds no host room, the sequence is preempted by recompute, as in the baseline.
public final class SeesawScheduler: Scheduler {
  let config: EngineConfig
  /// The decode layout's device cache, the prefill layout's, and the host buffer, in blocks of `blockSize`.
  public let decodeBlocks: BlockManager
  public let prefillBlocks: BlockManager
  public let hostBlocks: BlockManager
  public private(set) var phase = Phase.prefill
  public private(set) var counters = SeesawCounters()
  /// Prompts (or preempted sequences) not started, in arrival order.
  var waiting: [SequenceState] = []
  /// Prompts partly computed, holding prefill blocks for all their tokens and host blocks reserved for them.
  var prefilling: [SequenceState] = []
  /// K/V in the host buffer, waiting for decode blocks (oldest first).
  var buffered: [SequenceState] = []
  /// K/V being copied into the decode cache behind this step's forward pass; they join the batch next step.
  var prefetching: [SequenceState] = []
  /// K/V in the decode cache.
  var running: [SequenceState] = []
  private let sequences = SequenceRegistry()
  /// The last step: sequences with the tokens they computed, swap-ins to finish, swap-outs to finish.
  private var inFlight: [(SequenceState, Int)] = []
  private var swappedIn: [SequenceState] = []
  private var swappedOut: [SequenceState] = []

  public init(config: EngineConfig, numBlocks: Int, numPrefillBlocks: Int, numHostBlocks: Int) {
    self.config = config
    decodeBlocks = BlockManager(numBlocks: numBlocks, blockSize: config.blockSize)
    prefillBlocks = BlockManager(numBlocks: numPrefillBlocks, blockSize: config.blockSize)
    hostBlocks = BlockManager(numBlocks: numHostBlocks, blockSize: config.blockSize)
  }

  public var hasUnfinished: Bool {
    !waiting.isEmpty || !prefilling.isEmpty || !buffered.isEmpty || !prefetching.isEmpty || !running.isEmpty
  }

  public var stats: SchedulerStats {
    var s = SchedulerStats(
      numWaiting: waiting.count, numRunning: prefilling.count + buffered.count + prefetching.count + running.count,
      numPreemptions: counters.numPreemptions, numUsedBlocks: decodeBlocks.numUsedBlocks,
      numBlocks: decodeBlocks.numBlocks)
    var c = counters
    c.phase = phase
    c.numBuffered = buffered.count
    c.numUsedHostBlocks = hostBlocks.numUsedBlocks
    c.numHostBlocks = hostBlocks.numBlocks
    s.seesaw = c
    return s
  }

  public func add(_ request: SchedulerRequest) {
    waiting.append(sequences.register(request))
  }

  public func schedule() -> SchedulerOutput {
    inFlight = []
    // An idle replica (data parallelism) keeps its phase: a switch counts only with work to run in it.
    guard hasUnfinished else { return SchedulerOutput(sequences: [], blockCopies: [], preemptedSequenceIDs: []) }
    let next = nextPhase()
    if next != phase {
      phase = next
      counters.numTransitions += 1
    }
    var output = phase == .prefill ? schedulePrefill() : scheduleDecode()
    output.phase = phase
    return output
  }

  /// The phase of the next step (see the type's diagram).
  func nextPhase() -> Phase {
    let canPrefill = !prefilling.isEmpty || (waiting.first.map(canAdmit) ?? false)
    let hasDecodeWork = !buffered.isEmpty || !prefetching.isEmpty || !running.isEmpty
    switch phase {
    case .prefill:
      return !canPrefill && hasDecodeWork ? .decode : .prefill
    case .decode:
      let bufferedBlocks = buffered.reduce(0) { $0 + $1.hostTable.count }
      let low = buffered.isEmpty || Double(bufferedBlocks) < config.hostLowWatermark * Double(hostBlocks.numBlocks)
      return (canPrefill && low) || !hasDecodeWork ? .prefill : .decode
    }
  }

  /// Whether a waiting sequence can start its prefill now: host room and prefill blocks for all its tokens.
  func canAdmit(_ seq: SequenceState) -> Bool {
    hostBlocks.canAllocate(hostBlocks.numBlocks(for: seq.numTokens))
      && prefillBlocks.canAllocate(prefillBlocks.numBlocks(for: seq.numTokens))
  }

  /// Prompt tokens per prefill step: the configured budget, but never more than the host buffer can take.
  var prefillBudget: Int { min(config.maxPrefillTokens, hostBlocks.numBlocks * hostBlocks.blockSize) }

  private func schedulePrefill() -> SchedulerOutput {
    var budget = prefillBudget
    var scheduled: [SchedulerOutput.ScheduledSequence] = []
    var swapOuts: [KVTransfer] = []
    func add(_ seq: SequenceState) {
      let numNew = min(seq.numUncomputed, budget, config.chunkSize ?? budget)  // chunks of long prompts
      let entry = entry(seq, numNew)
      if seq.numComputed + numNew == seq.numTokens {
        swapOuts.append(
          KVTransfer(
            sequenceID: seq.id, deviceTable: seq.blockTable, hostTable: seq.hostTable, numTokens: seq.numTokens))
      }
      scheduled.append(entry)
      budget -= numNew
    }
    for seq in prefilling where budget > 0 { add(seq) }
    // Admit prompts whole: host and prefill blocks for all their tokens now, so no prompt ever waits for blocks
    // that another half-done prompt holds.
    while budget > 0, let seq = waiting.first, canAdmit(seq) {
      seq.hostTable = hostBlocks.allocate(hostBlocks.numBlocks(for: seq.numTokens))!
      seq.blockTable = prefillBlocks.allocate(prefillBlocks.numBlocks(for: seq.numTokens))!
      waiting.removeFirst()
      prefilling.append(seq)
      add(seq)
    }
    var output = SchedulerOutput(sequences: scheduled, blockCopies: [], preemptedSequenceIDs: [])
    output.swapOuts = swapOuts
    return output
  }

  private func scheduleDecode() -> SchedulerOutput {
    var budget = config.maxNumBatchedTokens
    var scheduled: [SchedulerOutput.ScheduledSequence] = []
    var evictions: [KVTransfer] = []
    var swapIns: [KVTransfer] = []
    var preempted: [Int] = []
    // Running sequences first, oldest first; evict the newest when decode blocks run out.
    var i = 0
    while i < running.count && budget > 0 {
      let seq = running[i]
      var evictedSelf = false
      while !decodeBlocks.canAppend(table: seq.blockTable, numComputed: seq.numComputed, numNew: 1) {
        let victim = running.removeLast()
        if let transfer = evict(victim) {
          evictions.append(transfer)
        } else {
          preempted.append(victim.id)
        }
        if victim === seq {
          evictedSelf = true
          break
        }
      }
      if evictedSelf { break }
      _ = decodeBlocks.append(table: &seq.blockTable, numComputed: seq.numComputed, numNew: 1)
      scheduled.append(entry(seq, 1))
      budget -= 1
      i += 1
    }
    // Then buffered sequences come in as decode blocks allow, keeping the watermark free (unless nothing runs).
    // With a batch to run, they are prefetched behind its forward pass and join next step; otherwise they are
    // copied in first and run now.
    let prefetch = !scheduled.isEmpty
    var prefetches: [KVTransfer] = []
    let reserve = Int(config.deviceWatermark * Double(decodeBlocks.numBlocks))
    while evictions.isEmpty && preempted.isEmpty, let seq = buffered.first,
      running.count + prefetching.count < config.maxNumSeqs, prefetch || budget > 0
    {
      let need = decodeBlocks.numBlocks(for: seq.numComputed + 1)
      let idle = running.isEmpty && prefetching.isEmpty
      guard decodeBlocks.numFreeBlocks - need >= (idle ? 0 : reserve), let table = decodeBlocks.allocate(need)
      else { break }
      buffered.removeFirst()
      seq.blockTable = table
      let transfer = KVTransfer(
        sequenceID: seq.id, deviceTable: table, hostTable: seq.hostTable, numTokens: seq.numComputed)
      counters.swappedInTokens += seq.numComputed
      swappedIn.append(seq)
      if prefetch {
        prefetches.append(transfer)
        prefetching.append(seq)
      } else {
        swapIns.append(transfer)
        running.append(seq)
        scheduled.append(entry(seq, 1))
        budget -= 1
      }
    }
    var output = SchedulerOutput(sequences: scheduled, blockCopies: [], preemptedSequenceIDs: preempted)
    output.evictions = evictions
    output.swapIns = swapIns
    output.prefetches = prefetches
    return output
  }

  /// Moves a running sequence's K/V to the host buffer (its decode blocks are free for this step's other work: the
  /// executor copies evictions first), or, without host room, preempts it by recompute. Returns the transfer.
  private func evict(_ seq: SequenceState) -> KVTransfer? {
    let table = seq.blockTable
    decodeBlocks.free(table)
    seq.blockTable = []
    guard let host = hostBlocks.allocate(hostBlocks.numBlocks(for: seq.numComputed)) else {
      seq.numComputed = 0
      waiting.insert(seq, at: 0)
      counters.numPreemptions += 1
      return nil
    }
    seq.hostTable = host
    buffered.insert(seq, at: 0)
    counters.numEvictions += 1
    counters.evictedTokens += seq.numComputed
    return KVTransfer(sequenceID: seq.id, deviceTable: table, hostTable: host, numTokens: seq.numComputed)
  }

  /// The scheduled form of `numNew` tokens of `seq`, remembered for `update`.
  private func entry(_ seq: SequenceState, _ numNew: Int) -> SchedulerOutput.ScheduledSequence {
    inFlight.append((seq, numNew))
    return seq.scheduled(numNew: numNew)
  }

  public func update(_ output: StepOutput) -> [SequenceUpdate] {
    // Swap-ins are done: their host blocks are free (not before: an eviction of the same step wrote first).
    for seq in swappedIn {
      hostBlocks.free(seq.hostTable)
      seq.hostTable = []
    }
    swappedIn = []
    // Prefetched sequences are in every decode rank's cache now (ranks report their copies before the step ends).
    running += prefetching
    prefetching = []
    for (seq, numNew) in inFlight {
      seq.numComputed += numNew
      // A prompt done: its K/V is in the host buffer now; the prefill blocks are free.
      guard phase == .prefill && seq.numComputed == seq.numTokens else { continue }
      prefillBlocks.free(seq.blockTable)
      seq.blockTable = []
      prefilling.removeAll { $0 === seq }
      counters.swappedOutTokens += seq.numComputed
      buffered.append(seq)
      for child in seq.pendingForks {
        child.hostTable = hostBlocks.fork(seq.hostTable)
        child.numComputed = seq.numComputed
        buffered.append(child)
      }
      seq.pendingForks = []
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
    if prefilling.contains(where: { $0 === seq }) {
      prefillBlocks.free(seq.blockTable)
    } else {
      decodeBlocks.free(seq.blockTable)
    }
    hostBlocks.free(seq.hostTable)
    seq.blockTable = []
    seq.hostTable = []
    for list in [\SeesawScheduler.waiting, \.prefilling, \.buffered, \.prefetching, \.running] {
      self[keyPath: list].removeAll { $0 === seq }
    }
    sequences.remove(seq)
  }
}

/// Seesaw's counters for progress lines and bench reports.
public struct SeesawCounters: Sendable, Equatable {
  public var phase = Phase.prefill
  public var numTransitions = 0
  public var numBuffered = 0
  public var numUsedHostBlocks = 0
  public var numHostBlocks = 0
  /// Tokens of K/V moved prefill cache -> host, host -> decode cache, decode cache -> host.
  public var swappedOutTokens = 0
  public var swappedInTokens = 0
  public var evictedTokens = 0
  public var numEvictions = 0
  public var numPreemptions = 0
}
