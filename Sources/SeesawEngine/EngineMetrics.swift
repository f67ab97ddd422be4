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

  /// Share of step time not spent in the forward pass (scheduling, sampling, detokenizing, bookkeeping).
  public var overheadShare: Double { stepSeconds > 0 ? (stepSeconds - forwardSeconds) / stepSeconds : 0 }

  /// Counts one engine step: the work of every replica that ran (their forward passes overlap, so the slowest
  /// one's time counts).
  mutating func record(steps: [(SchedulerOutput, StepOutput)], scheduleSeconds: Double, stepSeconds: Double) {
    numSteps += 1
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
    } else {
      decodeStepSeconds += stepSeconds
      numDecodeSteps += 1
      decodeStepTokens += decode
      decodeStepContext += context
    }
  }
}
