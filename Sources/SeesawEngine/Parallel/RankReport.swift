import SeesawParallel

/// Where one rank's time and traffic went, per phase; sent to the driver when the run shuts down.
public struct RankReport: Sendable, Equatable {
  public var rank: Int
  public var prefill = PhaseCounters()
  public var decode = PhaseCounters()
  /// Layout switches this rank made, and their seconds (materialising the entering shard).
  public var numTransitions = 0
  public var transitionSeconds = 0.0
  /// K/V this rank moved between its caches and the host buffer, and the seconds it took; of those, the seconds of
  /// swap-outs run behind the forward pass, and the seconds the step still waited for them at its end.
  public var swappedBytes = 0
  public var swapSeconds = 0.0
  public var overlappedSwapSeconds = 0.0
  public var computeWaitedOnSwapSeconds = 0.0

  public init(rank: Int) { self.rank = rank }

  /// Time and traffic of the steps of one phase (steps with prompt work, or decode-only steps).
  public struct PhaseCounters: Sendable, Equatable {
    public var numSteps = 0
    /// Seconds from a step's command to this rank's last message of it.
    public var stepSeconds = 0.0
    /// Inside communicator calls (all-reduces, hidden states, logits), waiting included.
    public var communication = CommunicatorStats()

    public init() {}

    /// Step time outside communication.
    public var computeSeconds: Double { stepSeconds - communication.seconds }
  }

  func encoded() -> [UInt8] {
    var w = ByteWriter()
    w.int(rank)
    for p in [prefill, decode] {
      let c = p.communication
      w.int(p.numSteps)
      w.int(c.allReduceBytes)
      w.int(c.numAllReduces)
      w.int(c.sentBytes)
      w.int(c.numSends)
      w.doubles([p.stepSeconds, c.seconds])
    }
    w.int(numTransitions)
    w.int(swappedBytes)
    w.doubles([transitionSeconds, swapSeconds, overlappedSwapSeconds, computeWaitedOnSwapSeconds])
    return w.bytes
  }

  init(decoding bytes: [UInt8]) throws {
    var r = ByteReader(bytes)
    rank = try r.int()
    for phase in 0..<2 {
      var p = PhaseCounters()
      p.numSteps = try r.int()
      p.communication.allReduceBytes = try r.int()
      p.communication.numAllReduces = try r.int()
      p.communication.sentBytes = try r.int()
      p.communication.numSends = try r.int()
      let seconds = try r.doubles()
      guard seconds.count == 2 else { throw r.failure("seconds") }
      (p.stepSeconds, p.communication.seconds) = (seconds[0], seconds[1])
      if phase == 0 { prefill = p } else { decode = p }
    }
    numTransitions = try r.int()
    swappedBytes = try r.int()
    let seconds = try r.doubles()
    guard seconds.count == 4 else { throw r.failure("seconds") }
    (transitionSeconds, swapSeconds, overlappedSwapSeconds, computeWaitedOnSwapSeconds) =
      (seconds[0], seconds[1], seconds[2], seconds[3])
    guard r.isAtEnd else { throw r.failure("trailing bytes") }
  }
}
