import Dispatch
import SeesawModel
import SeesawTensor

/// Runs a scheduled step and samples: the only place where tensors meet scheduling decisions. The simulator
/// replaces it by a cost model; parallel layouts by ranks.
///
/// A step is submitted, then collected, so that an engine with several data-parallel replicas can start all of
/// them before it waits for any.
public protocol Executor: AnyObject {
  /// Starts the step (an executor of other ranks sends it off and returns).
  func submit(_ output: SchedulerOutput) throws
  /// The sampled tokens of the submitted step.
  func collect() throws -> StepOutput
  /// Whether step times are modelled (a virtual clock) rather than measured.
  var isVirtual: Bool { get }
}

extension Executor {
  public var isVirtual: Bool { false }

  /// Submits and collects one step.
  public func execute(_ output: SchedulerOutput) throws -> StepOutput {
    try submit(output)
    return try collect()
  }
}

/// One model on this process's CPU, with its paged KV cache.
public final class ModelExecutor: Executor {
  public let model: LlamaModel
  public let cache: PagedKVCache
  private var pending: SchedulerOutput?

  /// The model's weights are made ready to compute with here (as a parallel rank's active shard is), so that the
  /// first step does not pay for it (`--precision int8`'s interleaved copies).
  public init(model: LlamaModel, cache: PagedKVCache) {
    self.model = model
    self.cache = cache
    model.backend.materialize(model.matrices)
  }

  public func submit(_ output: SchedulerOutput) {
    precondition(pending == nil, "a step is already submitted")
    pending = output
  }

  public func collect() -> StepOutput {
    guard let output = pending else { preconditionFailure("no step submitted") }
    pending = nil
    let start = DispatchTime.now().uptimeNanoseconds
    for copy in output.blockCopies { cache.copyBlock(Int(copy.source), to: Int(copy.destination)) }
    // One flat batch; logits only for the sequences that sample.
    let batch = output.forwardBatch(output.wholePieces, blockSize: cache.blockSize)
    let logits = batch.numTokens == 0 ? Tensor(zeros: [0, 1]) : model.forward(batch, cache: cache)
    let forwardEnd = DispatchTime.now().uptimeNanoseconds
    let sampled = output.drawSamples(logits: logits)
    let end = DispatchTime.now().uptimeNanoseconds
    return StepOutput(
      sampled: sampled, forwardSeconds: Double(forwardEnd - start) / 1e9, sampleSeconds: Double(end - forwardEnd) / 1e9)
  }
}

extension SchedulerOutput {
  /// The flat batch of `pieces` (parts of scheduled sequences, in order), with a logit row for each piece that ends
  /// a sequence that samples.
  func forwardBatch(_ pieces: [MicroBatchPiece], blockSize: Int) -> ForwardBatch {
    var batch = ForwardBatch(
      chunks: pieces.map {
        let s = sequences[$0.sequence]
        return ForwardBatch.Chunk(
          tokens: Array(s.tokenIDs[$0.tokens]), startPosition: s.startPosition + $0.tokens.lowerBound,
          blockTable: s.blockTable)
      }, blockSize: blockSize)
    batch.logitRows = pieces.indices.filter {
      let s = sequences[pieces[$0].sequence]
      return !s.samples.isEmpty && pieces[$0].tokens.upperBound == s.tokenIDs.count
    }.map { batch.logitRows[$0] }
    return batch
  }

  /// Every sequence whole, as one micro-batch.
  var wholePieces: [MicroBatchPiece] {
    sequences.indices.map { MicroBatchPiece(sequence: $0, tokens: 0..<sequences[$0].tokenIDs.count) }
  }

  /// Draws every sample of the step; `logits` has one row per sampling sequence, in sequence order.
  func drawSamples(logits: Tensor) -> [StepOutput.Sampled] {
    var sampled: [StepOutput.Sampled] = []
    let vocab = logits.rowLength
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(vocab, 1))
    defer { scratch.deallocate() }
    for (row, seq) in sequences.filter({ !$0.samples.isEmpty }).enumerated() {
      for sample in seq.samples {
        // Each draw gets the untouched row: sampling rewrites logits in place.
        scratch.update(from: logits.row(row), count: vocab)
        let random = Sampler.uniform(seed: sample.seed, sampleIndex: sample.sampleIndex, step: sample.step)
        let (token, logprobs) = Sampler.sample(
          scratch, vocab: vocab, params: seq.params, history: seq.history, random: random)
        sampled.append(.init(sequenceID: sample.sequenceID, token: token, logprobs: logprobs))
      }
    }
    return sampled
  }
}
