import SeesawTensor

/// Grouped-query self-attention over the paged KV cache (Llama, Mistral, Qwen2).
struct LlamaAttention {
  // Head counts are this shard's (all heads on one rank).
  let qProj: WeightMatrix  // [numHeads * headDim, hidden]
  let kProj: WeightMatrix  // [numKVHeads * headDim, hidden]
  let vProj: WeightMatrix  // [numKVHeads * headDim, hidden]
  let oProj: WeightMatrix  // [hidden, numHeads * headDim]
  let qBias: Tensor?  // [numHeads * headDim] (Qwen2)
  let kBias: Tensor?  // [numKVHeads * headDim]
  let vBias: Tensor?  // [numKVHeads * headDim]
  let shape: AttentionShape
  /// q/k/v as the one pass `Backend.linear` takes, made once.
  let qkv: [WeightMatrix]
  let qkvBiases: [Tensor?]

  /// This shard's heads of the layer at `prefix`: q/k/v rows of its heads (column-parallel), o_proj columns of its
  /// query heads (row-parallel: the outputs of all ranks sum to the layer's).
  init(weights: WeightSource, prefix: String, config: ModelConfig, shard: LlamaShard, blockSize: Int) throws {
    let (h, d) = (config.hiddenSize, config.headDim)
    let q = shard.qHeads.lowerBound * d..<shard.qHeads.upperBound * d
    let kv = shard.kvHeads.lowerBound * d..<shard.kvHeads.upperBound * d
    qProj = try weights.loadMatrix("\(prefix).q_proj.weight", shape: [config.qDim, h], rows: q, columns: 0..<h)
    kProj = try weights.loadMatrix("\(prefix).k_proj.weight", shape: [config.kvDim, h], rows: kv, columns: 0..<h)
    vProj = try weights.loadMatrix("\(prefix).v_proj.weight", shape: [config.kvDim, h], rows: kv, columns: 0..<h)
    oProj = try weights.loadMatrix("\(prefix).o_proj.weight", shape: [h, config.qDim], rows: 0..<h, columns: q)
    if config.attentionBias {
      qBias = try weights.load("\(prefix).q_proj.bias", shape: [config.qDim], range: q)
      kBias = try weights.load("\(prefix).k_proj.bias", shape: [config.kvDim], range: kv)
      vBias = try weights.load("\(prefix).v_proj.bias", shape: [config.kvDim], range: kv)
    } else {
      (qBias, kBias, vBias) = (nil, nil, nil)
    }
    qkv = [qProj, kProj, vProj]
    qkvBiases = [qBias, kBias, vBias]
    // Local heads keep GQA's mapping (head i reads KV head i / group) because shards start on group boundaries,
    // or hold a single KV head.
    shape = AttentionShape(
      numHeads: shard.qHeads.count, numKVHeads: shard.kvHeads.count, headDim: d, blockSize: blockSize,
      slidingWindow: config.slidingWindow)
  }

  /// out [T, hidden] = attention of x [T, hidden] (this shard's part of the sum); writes this batch's K/V into
  /// `layer`'s cache first.
  func forward(
    _ x: Tensor, batch: ForwardBatch, rope: (cos: Tensor, sin: Tensor), cache: PagedKVCache, layer: Int,
    backend: Backend, workspace: Workspace, into out: Tensor
  ) {
    let t = x.rows
    let q = workspace.tensor("q", rows: t, columns: shape.numHeads * shape.headDim)  // [T, Hq * D]
    let k = workspace.tensor("k", rows: t, columns: shape.numKVHeads * shape.headDim)  // [T, Hkv * D]
    let v = workspace.tensor("v", rows: t, columns: shape.numKVHeads * shape.headDim)  // [T, Hkv * D]
    backend.linear(x, qkv, biases: qkvBiases, into: [q, k, v])
    backend.rope(q, numHeads: shape.numHeads, cos: rope.cos, sin: rope.sin)
    backend.rope(k, numHeads: shape.numKVHeads, cos: rope.cos, sin: rope.sin)
    backend.writeKV(k: k, v: v, slots: batch.slots, cache: cache.layer(layer))
    let attended = workspace.tensor("attended", rows: t, columns: q.rowLength)  // [T, Hq * D]
    backend.attention(
      q: q, positions: batch.positions, sequences: batch.sequences, cache: cache.layer(layer), shape: shape,
      into: attended)
    backend.linear(attended, oProj, bias: nil, into: out)
  }
}
