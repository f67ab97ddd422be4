import SeesawParallel

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
  /// The layout the step runs in (a Seesaw plan's prefill or decode layout; a static plan has one for both).
  public var phase: Phase = .decode
  /// Before the forward pass: running sequences moved from the decode cache to the host buffer (evicted), then
  /// buffered sequences moved from the host buffer into the decode cache (swap-in).
  public var evictions: [KVTransfer] = []
  public var swapIns: [KVTransfer] = []
  /// Swap-ins run behind the forward pass (the sequences are not in this step; they join the next one).
  public var prefetches: [KVTransfer] = []
  /// After the forward pass: prompts completed by this step, moved from the prefill cache to the host buffer.
  public var swapOuts: [KVTransfer] = []

  public init(sequences: [ScheduledSequence], blockCopies: [BlockCopy], preemptedSequenceIDs: [Int]) {
    self.sequences = sequences
    self.blockCopies = blockCopies
    self.preemptedSequenceIDs = preemptedSequenceIDs
  }

  public var numBatchedTokens: Int { sequences.reduce(0) { $0 + $1.tokenIDs.count } }
  public var isEmpty: Bool { sequences.isEmpty }
}

/// One sequence's K/V moved between a device cache and the host buffer: positions 0..<numTokens, through the two
/// block tables.
public struct KVTransfer: Sendable, Equatable {
  public var sequenceID: Int
  public var deviceTable: [Int32]
  public var hostTable: [Int32]
  public var numTokens: Int
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
  /// Seconds the driver's rank spent switching layouts, and moving K/V to and from the host buffer, in this step.
  public var transitionSeconds = 0.0
  public var swapSeconds = 0.0
}
