/// The sequences a scheduler tracks, by id, with their stop tokens: what the baseline and Seesaw schedulers share
/// (making a request's samples, applying sampled tokens and stop rules).
final class SequenceRegistry {
  private var byID: [Int: SequenceState] = [:]
  private var stopTokenIDs: [Int: Set<Int32>] = [:]
  private var nextID = 0

  subscript(id: Int) -> SequenceState? { byID[id] }

  /// A request's first sample; its other n - 1 samples share the prompt and wait as its pending forks.
  func register(_ request: SchedulerRequest) -> SequenceState {
    func make(_ sampleIndex: Int) -> SequenceState {
      defer { nextID += 1 }
      let seq = SequenceState(
        id: nextID, requestIndex: request.index, sampleIndex: sampleIndex, promptTokenIDs: request.promptTokenIDs,
        params: request.params, seed: request.seed)
      byID[seq.id] = seq
      stopTokenIDs[seq.id] = request.stopTokenIDs
      return seq
    }
    let first = make(0)
    first.pendingForks = (1..<max(1, request.params.n)).map(make)
    return first
  }

  /// Appends each sampled token to its sequence and applies the stop rules (stop tokens after min_tokens, then
  /// max_tokens); returns the updates, and the sequences that finished (to release).
  func apply(_ sampled: [StepOutput.Sampled]) -> (updates: [SequenceUpdate], finished: [SequenceState]) {
    var updates: [SequenceUpdate] = []
    var finished: [SequenceState] = []
    for s in sampled {
      guard let seq = byID[s.sequenceID], !seq.isFinished else { continue }
      seq.outputTokenIDs.append(s.token)
      if let lp = s.logprobs { seq.logprobs.append(lp) }
      let params = seq.params
      if seq.outputTokenIDs.count >= params.minTokens && stopTokenIDs[seq.id]!.contains(s.token) {
        seq.finishReason = .stop
      } else if seq.outputTokenIDs.count >= params.maxTokens {
        seq.finishReason = .length
      }
      updates.append(
        SequenceUpdate(
          sequenceID: seq.id, requestIndex: seq.requestIndex, sampleIndex: seq.sampleIndex, newToken: s.token,
          outputTokenIDs: seq.outputTokenIDs, logprobs: s.logprobs, finishReason: seq.finishReason))
      if seq.isFinished { finished.append(seq) }
    }
    return (updates, finished)
  }

  func remove(_ seq: SequenceState) {
    byID[seq.id] = nil
    stopTokenIDs[seq.id] = nil
  }
}

extension SequenceState {
  /// The scheduled form of the next `numNew` tokens, with the draws to make if they complete the sequence (its
  /// own and its pending forks').
  func scheduled(numNew: Int) -> SchedulerOutput.ScheduledSequence {
    let start = numComputed
    var samples: [SchedulerOutput.Sample] = []
    if start + numNew == numTokens {
      for s in [self] + pendingForks {
        samples.append(.init(sequenceID: s.id, seed: s.seed, sampleIndex: s.sampleIndex, step: s.outputTokenIDs.count))
      }
    }
    return SchedulerOutput.ScheduledSequence(
      sequenceID: id, tokenIDs: (start..<(start + numNew)).map(token(at:)), startPosition: start,
      blockTable: blockTable, samples: samples, params: params,
      history: params.usesPenalties
        ? Sampler.History(promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs) : nil,
      isDecode: numNew == 1 && start >= promptTokenIDs.count)
  }
}
