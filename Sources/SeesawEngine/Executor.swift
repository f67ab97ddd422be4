import Dispatch
import SeesawModel
import SeesawTensor

/// Runs a scheduled step and samples: the only place where tensors meet scheduling decisions. The simulator
/// replaces it by a cost model; parallel layouts by workers.
public protocol Executor: AnyObject {
  func execute(_ output: SchedulerOutput) -> StepOutput
}

/// One model on this process's CPU, with its paged KV cache.
public final class ModelExecutor: Executor {
  public let model: LlamaModel
  public let cache: PagedKVCache

  public init(model: LlamaModel, cache: PagedKVCache) {
    self.model = model
    self.cache = cache
  }

  public func execute(_ output: SchedulerOutput) -> StepOutput {
    let start = DispatchTime.now().uptimeNanoseconds
    copyBlocks(output.blockCopies)
    // One flat batch; logits only for the sequences that sample.
    var batch = ForwardBatch(
      chunks: output.sequences.map {
        ForwardBatch.Chunk(tokens: $0.tokenIDs, startPosition: $0.startPosition, blockTable: $0.blockTable)
      }, blockSize: cache.blockSize)
    let sampling = output.sequences.indices.filter { !output.sequences[$0].samples.isEmpty }
    batch.logitRows = sampling.map { batch.logitRows[$0] }
    let logits = batch.numTokens == 0 ? Tensor(zeros: [0, 1]) : model.forward(batch, cache: cache)
    let forwardEnd = DispatchTime.now().uptimeNanoseconds

    var sampled: [StepOutput.Sampled] = []
    let vocab = logits.rowLength
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(vocab, 1))
    defer { scratch.deallocate() }
    for (row, index) in sampling.enumerated() {
      let seq = output.sequences[index]
      for sample in seq.samples {
        // Each draw gets the untouched row: sampling rewrites logits in place.
        scratch.update(from: logits.row(row), count: vocab)
        let random = Sampler.uniform(seed: sample.seed, sampleIndex: sample.sampleIndex, step: sample.step)
        let (token, logprobs) = Sampler.sample(
          scratch, vocab: vocab, params: seq.params, history: seq.history, random: random)
        sampled.append(.init(sequenceID: sample.sequenceID, token: token, logprobs: logprobs))
      }
    }
    let end = DispatchTime.now().uptimeNanoseconds
    return StepOutput(
      sampled: sampled, forwardSeconds: Double(forwardEnd - start) / 1e9, sampleSeconds: Double(end - forwardEnd) / 1e9)
  }

  /// Copy-on-write of shared blocks.
  func copyBlocks(_ copies: [BlockCopy]) {
    for copy in copies { cache.copyBlock(Int(copy.source), to: Int(copy.destination)) }
  }
}
