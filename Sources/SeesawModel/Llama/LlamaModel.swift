import Foundation
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
public final class LlamaModel: @unchecked Sendable {
  public let config: ModelConfig
  public let backend: Backend
  /// Block size the attention shape was built for; the cache must use the same.
  public let blockSize: Int
  let embedTokens: WeightMatrix  // [vocab, hidden]
  let blocks: [LlamaBlock]
  let norm: Tensor  // [hidden]
  let lmHead: WeightMatrix  // [vocab, hidden] (embedTokens when tied)
  let rotary: RotaryEmbedding
  /// Activation buffers reused across forward passes, guarded by `lock` (one pass at a time per model).
  let workspace = Workspace()
  private let lock = NSLock()

  public init(config: ModelConfig, weights: WeightSource, backend: Backend = CPUBackend(), blockSize: Int = 16)
    throws
  {
    self.config = config
    self.backend = backend
    self.blockSize = blockSize
    let (v, h) = (config.vocabSize, config.hiddenSize)
    embedTokens = try weights.loadMatrix("model.embed_tokens.weight", shape: [v, h])
    blocks = try (0..<config.numLayers).map { i in
      let p = "model.layers.\(i)"
      return LlamaBlock(
        inputNorm: try weights.load("\(p).input_layernorm.weight", shape: [h]),
        attention: try LlamaAttention(weights: weights, prefix: "\(p).self_attn", config: config, blockSize: blockSize),
        postAttentionNorm: try weights.load("\(p).post_attention_layernorm.weight", shape: [h]),
        mlp: try LlamaMLP(weights: weights, prefix: "\(p).mlp", config: config))
    }
    norm = try weights.load("model.norm.weight", shape: [h])
    // Tied models have no lm_head; a few untied checkpoints still omit it and mean the embedding.
    lmHead =
      config.tieWordEmbeddings || weights.raw("lm_head.weight") == nil
      ? embedTokens : try weights.loadMatrix("lm_head.weight", shape: [v, h])
    let freqFactors = try weights.raw("rope_freqs.weight").map { _ in
      try weights.load("rope_freqs.weight", shape: [config.headDim / 2]).toArray()
    }
    rotary = RotaryEmbedding(config: config, freqFactors: freqFactors)
  }

  /// Bytes of weights one forward pass reads (all layers' matrices and the LM head, in their stored form).
  public var weightBytes: Int {
    lmHead.byteCount
      + blocks.reduce(0) { total, b in
        total + [b.attention.qProj, b.attention.kProj, b.attention.vProj, b.attention.oProj, b.mlp.gateProj, b.mlp.upProj,
          b.mlp.downProj].reduce(0) { $0 + $1.byteCount }
      }
  }

  /// Logits [batch.logitRows.count, vocab] for a batch; K/V of every token are written to `cache`.
  /// Calls from several threads take turns (activations live in the model's workspace); the logits are the
  /// caller's.
  public func forward(_ batch: ForwardBatch, cache: PagedKVCache) -> Tensor {
    lock.lock()
    defer { lock.unlock() }
    precondition(cache.blockSize == blockSize && cache.numLayers == config.numLayers, "cache built for another model")
    let t = batch.numTokens
    let h = config.hiddenSize
    let residual = workspace.tensor("residual", [t, h])  // [T, hidden]
    let normed = workspace.tensor("normed", [t, h])  // [T, hidden]
    let delta = workspace.tensor("delta", [t, h])  // [T, hidden]
    backend.embed(batch.tokenIDs, table: embedTokens, into: residual)
    let angles = rotary.angles(positions: batch.positions)

    for (layer, block) in blocks.enumerated() {
      // Attention: residual += attn(rmsnorm(residual))
      backend.rmsNorm(residual, weight: block.inputNorm, eps: config.rmsNormEps, into: normed)
      block.attention.forward(
        normed, batch: batch, rope: angles, cache: cache, layer: layer, backend: backend,
        workspace: workspace, into: delta)
      backend.add(residual, delta)
      // MLP: residual += mlp(rmsnorm(residual))
      backend.rmsNorm(residual, weight: block.postAttentionNorm, eps: config.rmsNormEps, into: normed)
      block.mlp.forward(normed, backend: backend, workspace: workspace, into: delta)
      backend.add(residual, delta)
    }

    // Final norm and LM head, only for the rows that need logits.
    let selected = workspace.tensor("selected", [batch.logitRows.count, h])  // [numLogits, hidden]
    for (i, row) in batch.logitRows.enumerated() {
      selected.row(i).update(from: residual.row(row), count: h)
    }
    backend.rmsNorm(selected, weight: norm, eps: config.rmsNormEps, into: selected)
    let logits = Tensor(zeros: [batch.logitRows.count, config.vocabSize])  // [numLogits, vocab]
    backend.linear(selected, lmHead, bias: nil, into: logits)
    return logits
  }
}
