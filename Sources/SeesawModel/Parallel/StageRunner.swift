import SeesawParallel
import SeesawTensor

/// One rank's part of a pipelined forward pass: receives a micro-batch's hidden states from the previous stage,
/// runs its shard, and passes them on. Hidden states travel between ranks of the same tensor-parallel index (each
/// holds the full all-reduced hidden states), so a stage boundary moves tokens x hidden floats per rank.
///
///     time ->      stage 0: mb0 mb1 mb2          micro-batches keep every stage busy:
///                  stage 1:     mb0 mb1 mb2      stage s works on mb i while s + 1 works on mb i - 1
public final class StageRunner: @unchecked Sendable {
  public let model: LlamaModel
  public let cache: PagedKVCache
  /// All ranks of the run, for point-to-point messages.
  public let world: Communicator
  public let layout: ParallelConfig
  public let coordinates: RankCoordinates

  public init(model: LlamaModel, cache: PagedKVCache, world: Communicator, layout: ParallelConfig) {
    self.model = model
    self.cache = cache
    self.world = world
    self.layout = layout
    coordinates = layout.coordinates(of: world.rank)
  }

  /// Runs micro-batch `index` through this rank's stage. Returns this rank's logits slice
  /// [batch.logitRows.count, shard.vocab.count] on the last stage, nil elsewhere.
  public func run(_ batch: ForwardBatch, microBatch index: Int) throws -> Tensor? {
    var c = coordinates
    var input: Tensor? = nil
    if !model.shard.isFirstStage {
      c.stage = coordinates.stage - 1
      let hidden = Tensor(uninitialized: [batch.numTokens, model.config.hiddenSize])  // [T, hidden]
      try world.receive(
        floats: hidden.data, count: hidden.count, from: layout.rank(of: c), tag: MessageTag.hidden + index)
      input = hidden
    }
    let out = try model.forwardStage(batch, cache: cache, input: input)
    if model.shard.isLastStage { return out }
    c.stage = coordinates.stage + 1
    try world.send(floats: out.data, count: out.count, to: layout.rank(of: c), tag: MessageTag.hidden + index)
    return nil
  }
}
