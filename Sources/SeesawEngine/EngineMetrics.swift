import SeesawParallel

/// Counters an engine keeps for reports: tokens, time in the model and outside it.
public struct EngineMetrics: Sendable {
  public var numSteps = 0
  public var numPromptTokens = 0
  public var numDecodeTokens = 0
  /// Seconds of whole steps, of the forward pass, of sampling, and of scheduling.
  public var stepSeconds = 0.0
  public var forwardSeconds = 0.0
  public var sampleSeconds = 0.0
  public var scheduleSeconds = 0.0
  /// Seconds of steps that contained prefill tokens / only decode tokens.
  public var prefillStepSeconds = 0.0
  public var decodeStepSeconds = 0.0
  /// Decode-only steps, their tokens and the context those tokens attended to (Σ positions + 1): the bytes a
  /// decode step reads are the weights plus this much K/V.
  public var numDecodeSteps = 0
  public var decodeStepTokens = 0
  public var decodeStepContext = 0
  /// Decode tokens that ran in steps with prefill tokens (a sequence decoding while others' prompts go in) and
  /// their context: their work is part of those steps' time.
  public var prefillStepDecodeTokens = 0
  public var prefillStepDecodeContext = 0
  /// Seesaw: seconds of steps run in the prefill and the decode layout; layout switches and their seconds (on the
  /// driver's rank); seconds the driver's rank spent moving K/V to and from the host buffer (not overlapped).
  public var prefillPhaseSeconds = 0.0
  public var decodePhaseSeconds = 0.0
  public var numTransitions = 0
  public var transitionSeconds = 0.0
  public var swapSeconds = 0.0
  /// One record per step, when `LLMEngine.recordsTimeline` is on.
  public var timeline: [StepRecord] = []
  private var lastPhase: Phase?

  /// What one engine step did, for a timeline of phases, transitions and K/V moves.
  public struct StepRecord: Sendable {
    public var start: Double
    public var seconds: Double
    public var phase: Phase
    public var numPromptTokens: Int
    public var numDecodeTokens: Int
    /// Sequences copied into the decode cache (at the step's start, or prefetched behind it).
    public var numSwapIns: Int
    public var numSwapOuts: Int
    public var numEvictions: Int
    public var transitionSeconds: Double
    public var swapSeconds: Double
  }

  /// Share of step time not spent in the forward pass (scheduling, sampling, detokenizing, bookkeeping).
  public var overheadShare: Double { stepSeconds > 0 ? (stepSeconds - forwardSeconds) / stepSeconds : 0 }

  /// Counts one engine step: the work of every replica that ran (their forward passes overlap, so the slowest
  /// one's time counts).
  mutating func record(
    steps: [(SchedulerOutput, StepOutput)], scheduleSeconds: Double, stepSeconds: Double, start: Double? = nil
  ) {
    numSteps += 1
    let phase = steps[0].0.phase
    if let lastPhase, lastPhase != phase { numTransitions += 1 }
    lastPhase = phase
    if phase == .prefill { prefillPhaseSeconds += stepSeconds } else { decodePhaseSeconds += stepSeconds }
    transitionSeconds += steps.map(\.1.transitionSeconds).max() ?? 0
    swapSeconds += steps.reduce(0) { $0 + $1.1.swapSeconds }
    if let start {
      timeline.append(
        StepRecord(
          start: start, seconds: stepSeconds, phase: phase,
          numPromptTokens: steps.flatMap(\.0.sequences).filter { !$0.isDecode }.reduce(0) { $0 + $1.tokenIDs.count },
          numDecodeTokens: steps.flatMap(\.0.sequences).filter(\.isDecode).count,
          numSwapIns: steps.reduce(0) { $0 + $1.0.swapIns.count + $1.0.prefetches.count },
          numSwapOuts: steps.reduce(0) { $0 + $1.0.swapOuts.count },
          numEvictions: steps.reduce(0) { $0 + $1.0.evictions.count },
          transitionSeconds: steps.map(\.1.transitionSeconds).max() ?? 0,
          swapSeconds: steps.reduce(0) { $0 + $1.1.swapSeconds }))
    }
    var prefill = 0
    var decode = 0
    var context = 0
    for seq in steps.flatMap({ $0.0.sequences }) {
      if seq.isDecode {
        decode += 1
        context += seq.startPosition + 1
      } else {
        prefill += seq.tokenIDs.count
      }
    }
    numPromptTokens += prefill
    numDecodeTokens += decode
    self.stepSeconds += stepSeconds
    forwardSeconds += steps.map(\.1.forwardSeconds).max() ?? 0
    sampleSeconds += steps.reduce(0) { $0 + $1.1.sampleSeconds }
    self.scheduleSeconds += scheduleSeconds
    if prefill > 0 {
      prefillStepSeconds += stepSeconds
      prefillStepDecodeTokens += decode
      prefillStepDecodeContext += context
    } else {
      decodeStepSeconds += stepSeconds
      numDecodeSteps += 1
      decodeStepTokens += decode
      decodeStepContext += context
    }
  }
}
