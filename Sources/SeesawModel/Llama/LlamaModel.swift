import Foundation
import SeesawParallel
import SeesawTensor

/// One decoder layer: pre-norm attention and pre-norm MLP, each added to the residual stream.
struct LlamaBlock {
  let inputNorm: Tensor  // [hidden]
  let attention: LlamaAttention
  let postAttentionNorm: Tensor  // [hidden]
  let mlp: LlamaMLP
}

/// A Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2) computing logits for a flat batch of tokens from
/// many sequences, reading and writing K/V through a paged cache.
///
/// A model may be one rank's `LlamaShard`: a pipeline stage's layers, and inside them a tensor-parallel share of
/// heads, MLP columns and vocabulary, whose partial sums it all-reduces over `tpGroup`. The whole model is the
/// one-rank shard.
public final class LlamaModel: @unchecked Sendable {
  public let config: ModelConfig
  public let backend: Backend
  /// Block size the attention shape was built for; the cache must use the same.
  public let blockSize: Int
  public let shard: LlamaShard
  /// The ranks of this stage's tensor-parallel group (nil for tp 1).
  public let tpGroup: Communicator?
  let embedTokens: WeightMatrix?  // [vocab, hidden] this shard's vocabulary rows; first stage (and tied last)
  let blocks: [LlamaBlock]  // this stage's layers
  let norm: Tensor?  // [hidden] last stage
  let lmHead: WeightMatrix?  // [vocab, hidden] this shard's vocabulary rows (embedTokens when tied); last stage
  let rotary: RotaryEmbedding
  /// Activation buffers reused across forward passes, guarded by `lock` (one pass at a time per model).
  let workspace = Workspace()
  private let lock = NSLock()

  public init(
    config: ModelConfig, weights: WeightSource, backend: Backend = CPUBackend(), blockSize: Int = 16,
    shard: LlamaShard? = nil, tpGroup: Communicator? = nil
  ) throws {
    let shard = shard ?? .whole(config)
    precondition(shard.tpSize == (tpGroup?.size ?? 1), "a tp-\(shard.tpSize) shard needs its group of ranks")
    self.config = config
    self.backend = backend
    self.blockSize = blockSize
    self.shard = shard
    self.tpGroup = tpGroup
    let (v, h) = (config.vocabSize, config.hiddenSize)
    let vocab = shard.vocab
    let embedding = { try weights.loadMatrix("model.embed_tokens.weight", shape: [v, h], rows: vocab, columns: 0..<h) }
    // Tied models have no lm_head; a few untied checkpoints still omit it and mean the embedding.
    let tied = config.tieWordEmbeddings || weights.raw("lm_head.weight") == nil
    embedTokens = shard.isFirstStage || (shard.isLastStage && tied) ? try embedding() : nil
    blocks = try shard.layers.map { i in
      let p = "model.layers.\(i)"
      return LlamaBlock(
        inputNorm: try weights.load("\(p).input_layernorm.weight", shape: [h]),
        attention: try LlamaAttention(
          weights: weights, prefix: "\(p).self_attn", config: config, shard: shard, blockSize: blockSize),
        postAttentionNorm: try weights.load("\(p).post_attention_layernorm.weight", shape: [h]),
        mlp: try LlamaMLP(weights: weights, prefix: "\(p).mlp", config: config, shard: shard))
    }
    if shard.isLastStage {
      norm = try weights.load("model.norm.weight", shape: [h])
      lmHead =
        tied ? embedTokens : try weights.loadMatrix("lm_head.weight", shape: [v, h], rows: vocab, columns: 0..<h)
    } else {
      (norm, lmHead) = (nil, nil)
    }
    let freqFactors = try weights.raw("rope_freqs.weight").map { _ in
      try weights.load("rope_freqs.weight", shape: [config.headDim / 2]).toArray()
    }
    rotary = RotaryEmbedding(config: config, freqFactors: freqFactors)
    // The weights are read in now, not by the first forward pass's page faults (`WeightMatrix.prefault`).
    for w in matrices { w.prefault() }
  }

  /// This shard's layers' matrices and its LM head.
  public var matrices: [WeightMatrix] {
    blocks.flatMap {
      [
        $0.attention.qProj, $0.attention.kProj, $0.attention.vProj, $0.attention.oProj, $0.mlp.gateProj, $0.mlp.upProj,
        $0.mlp.downProj,
      ]
    } + (lmHead.map { [$0] } ?? [])
  }

  /// Bytes of weights one forward pass reads (this shard's layers' matrices and LM head, in their stored form).
  public var weightBytes: Int { matrices.reduce(0) { $0 + $1.byteCount } }

  /// A paged KV cache for this shard's layers and KV heads.
  public func makeCache(numBlocks: Int, dtype: KVCacheDType = .f32) -> PagedKVCache {
    PagedKVCache(
      numLayers: blocks.count, kvDim: shard.kvHeads.count * config.headDim, numBlocks: numBlocks, blockSize: blockSize,
      dtype: dtype)
  }

  /// Logits [batch.logitRows.count, vocab] for a batch; K/V of every token are written to `cache`.
  /// Calls from several threads take turns (activations live in the model's workspace); the logits are the
  /// caller's. Only for the whole model (a shard runs `forwardStage`).
  public func forward(_ batch: ForwardBatch, cache: PagedKVCache) -> Tensor {
    precondition(shard.isWhole, "forward runs the whole model; a shard runs forwardStage")
    return run(batch, cache: cache, input: nil) { _, _ in }
  }

  /// This shard's part of a forward pass. `input` is the previous stage's hidden states [T, hidden] (nil on the
  /// first stage). Returns the hidden states [T, hidden] for the next stage, or, on the last stage, the logits of
  /// this shard's vocabulary rows [batch.logitRows.count, shard.vocab.count].
  public func forwardStage(_ batch: ForwardBatch, cache: PagedKVCache, input: Tensor?) throws -> Tensor {
    precondition(shard.isFirstStage == (input == nil), "only the first stage starts from token ids")
    guard let tpGroup, tpGroup.size > 1 else { return run(batch, cache: cache, input: input) { _, _ in } }
    return try run(batch, cache: cache, input: input) { try tpGroup.allReduceSum($0, count: $1) }
  }

  /// The pass, with `reduce` summing a row-parallel partial result over the tensor-parallel group.
  private func run(
    _ batch: ForwardBatch, cache: PagedKVCache, input: Tensor?,
    reduce: (UnsafeMutablePointer<Float>, Int) throws -> Void
  ) rethrows -> Tensor {
    lock.lock()
    defer { lock.unlock() }
    precondition(cache.blockSize == blockSize && cache.numLayers == blocks.count, "cache built for another shard")
    let t = batch.numTokens
    let h = config.hiddenSize
    let residual = workspace.tensor("residual", rows: t, columns: h)  // [T, hidden]
    let normed = workspace.tensor("normed", rows: t, columns: h)  // [T, hidden]
    let delta = workspace.tensor("delta", rows: t, columns: h)  // [T, hidden]
    if let input {
      precondition(input.count == t * h, "hidden states \(input.shape) for \(t) tokens")
      residual.data.update(from: input.data, count: t * h)
    } else {
      embed(batch.tokenIDs, into: residual)
      if shard.tpSize > 1 { try reduce(residual.data, t * h) }
    }
    let angles = rotary.angles(positions: batch.positions)

    // Each residual update is fused with the norm that reads it next (`addRMSNorm`); the last one is a plain add
    // (the final norm runs on the logit rows only).
    if let first = blocks.first {
      backend.rmsNorm(residual, weight: first.inputNorm, eps: config.rmsNormEps, into: normed)
    }
    for (layer, block) in blocks.enumerated() {
      // Attention: residual += attn(rmsnorm(residual))
      block.attention.forward(
        normed, batch: batch, rope: angles, cache: cache, layer: layer, backend: backend,
        workspace: workspace, into: delta)
      try reduce(delta.data, t * h)
      backend.addRMSNorm(residual, delta, weight: block.postAttentionNorm, eps: config.rmsNormEps, into: normed)
      // MLP: residual += mlp(rmsnorm(residual))
      block.mlp.forward(normed, backend: backend, workspace: workspace, into: delta)
      try reduce(delta.data, t * h)
      if layer + 1 < blocks.count {
        backend.addRMSNorm(residual, delta, weight: blocks[layer + 1].inputNorm, eps: config.rmsNormEps, into: normed)
      } else {
        backend.add(residual, delta)
      }
    }
    guard let norm, let lmHead else {
      let out = Tensor(zeros: [t, h])  // [T, hidden] for the next stage
      out.data.update(from: residual.data, count: t * h)
      return out
    }

    // Final norm and LM head, only for the rows that need logits.
    let selected = workspace.tensor("selected", rows: batch.logitRows.count, columns: h)  // [numLogits, hidden]
    for (i, row) in batch.logitRows.enumerated() {
      selected.row(i).update(from: residual.row(row), count: h)
    }
    backend.rmsNorm(selected, weight: norm, eps: config.rmsNormEps, into: selected)
    // [numLogits, vocab (this shard's)], every element written by the product: not cleared first (64 rows of
    // SmolLM2's 49152 logits are 12.6 MB, which clearing took 0.9 ms of a 65-75 ms batch-64 decode step)
    let logits = Tensor(uninitialized: [batch.logitRows.count, lmHead.rows])
    backend.linear(selected, lmHead, bias: nil, into: logits)
    return logits
  }

  /// out [T, hidden] = embedding rows of `ids`; rows of ids outside this shard's vocabulary are zero (the
  /// tensor-parallel all-reduce fills them in).
  private func embed(_ ids: [Int32], into out: Tensor) {
    let table = embedTokens!
    guard shard.vocab.count != config.vocabSize else { return backend.embed(ids, table: table, into: out) }
    for (t, id) in ids.enumerated() {
      precondition(id >= 0 && Int(id) < config.vocabSize, "token id \(id) outside the vocabulary")
      if shard.vocab.contains(Int(id)) {
        table.dequantize(rows: Int(id) - shard.vocab.lowerBound, count: 1, into: out.row(t))
      } else {
        out.row(t).update(repeating: 0, count: out.rowLength)
      }
    }
  }
}
