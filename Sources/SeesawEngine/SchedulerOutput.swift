/// What one engine step computes: a plain value, the only thing sent to the executor (no tensors).
///
///     sequence   tokens to compute              sample?
///     a          prompt[0..<512]  (chunk)       no   (prompt not finished)
///     b          [last sampled token]           yes  (decode)
///     c          prompt[96..<130] (last chunk)  yes, n = 3 samples from one row (parallel sampling)
public struct SchedulerOutput: Sendable {
  public struct Sample: Sendable, Equatable {
    /// The sequence that receives the token.
    public var sequenceID: Int
    /// Random stream of the draw: (seed, sampleIndex, step).
    public var seed: UInt64
    public var sampleIndex: Int
    public var step: Int
  }

  public struct ScheduledSequence: Sendable {
    public var sequenceID: Int
    /// Tokens whose K/V this step computes, at positions startPosition...
    public var tokenIDs: [Int32]
    public var startPosition: Int
    public var blockTable: [Int32]
    /// Draws from this sequence's last logits row (empty while a prompt is still being prefilled).
    public var samples: [Sample]
    public var params: SamplingParams
    /// Prompt and output ids, when the params use penalties.
    public var history: Sampler.History?
    /// One generated token's K/V (a decode step), as opposed to prompt work (a prefill chunk or a recompute).
    public var isDecode: Bool
  }

  public var sequences: [ScheduledSequence]
  /// Block copies to make before the forward pass (copy-on-write of shared blocks).
  public var blockCopies: [BlockCopy]
  /// Sequences preempted (their blocks freed, to be recomputed) while making this step fit.
  public var preemptedSequenceIDs: [Int]

  public var numBatchedTokens: Int { sequences.reduce(0) { $0 + $1.tokenIDs.count } }
  public var isEmpty: Bool { sequences.isEmpty }
}

/// What the executor returns for a step.
public struct StepOutput: Sendable {
  public struct Sampled: Sendable {
    public var sequenceID: Int
    public var token: Int32
    public var logprobs: Sampler.Logprobs?
  }

  public var sampled: [Sampled]
  /// Seconds in the forward pass and in sampling.
  public var forwardSeconds: Double
  public var sampleSeconds: Double
}
