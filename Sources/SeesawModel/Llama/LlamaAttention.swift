import SeesawTensor

/// Grouped-query self-attention over the paged KV cache (Llama, Mistral, Qwen2).
struct LlamaAttention {
  let qProj: WeightMatrix  // [numHeads * headDim, hidden]
  let kProj: WeightMatrix  // [numKVHeads * headDim, hidden]
  let vProj: WeightMatrix  // [numKVHeads * headDim, hidden]
  let oProj: WeightMatrix  // [hidden, numHeads * headDim]
  let qBias: Tensor?  // [numHeads * headDim] (Qwen2)
  let kBias: Tensor?  // [numKVHeads * headDim]
  let vBias: Tensor?  // [numKVHeads * headDim]
  let shape: AttentionShape

  init(weights: WeightSource, prefix: String, config: ModelConfig, blockSize: Int) throws {
    let h = config.hiddenSize
    qProj = try weights.loadMatrix("\(prefix).q_proj.weight", shape: [config.qDim, h])
    kProj = try weights.loadMatrix("\(prefix).k_proj.weight", shape: [config.kvDim, h])
    vProj = try weights.loadMatrix("\(prefix).v_proj.weight", shape: [config.kvDim, h])
    oProj = try weights.loadMatrix("\(prefix).o_proj.weight", shape: [h, config.qDim])
    if config.attentionBias {
      qBias = try weights.load("\(prefix).q_proj.bias", shape: [config.qDim])
      kBias = try weights.load("\(prefix).k_proj.bias", shape: [config.kvDim])
      vBias = try weights.load("\(prefix).v_proj.bias", shape: [config.kvDim])
    } else {
      (qBias, kBias, vBias) = (nil, nil, nil)
    }
    shape = AttentionShape(
      numHeads: config.numHeads, numKVHeads: config.numKVHeads, headDim: config.headDim, blockSize: blockSize,
      slidingWindow: config.slidingWindow)
  }

  /// out [T, hidden] = attention of x [T, hidden]; writes this batch's K/V into `layer`'s cache first.
  func forward(
    _ x: Tensor, batch: ForwardBatch, rope: (cos: Tensor, sin: Tensor), cache: PagedKVCache, layer: Int,
    backend: Backend, workspace: Workspace, into out: Tensor
  ) {
    let t = x.rows
    let q = workspace.tensor("q", [t, shape.numHeads * shape.headDim])  // [T, Hq * D]
    let k = workspace.tensor("k", [t, shape.numKVHeads * shape.headDim])  // [T, Hkv * D]
    let v = workspace.tensor("v", [t, shape.numKVHeads * shape.headDim])  // [T, Hkv * D]
    backend.linear(x, qProj, bias: qBias, into: q)
    backend.linear(x, kProj, bias: kBias, into: k)
    backend.linear(x, vProj, bias: vBias, into: v)
    backend.rope(q, numHeads: shape.numHeads, cos: rope.cos, sin: rope.sin)
    backend.rope(k, numHeads: shape.numKVHeads, cos: rope.cos, sin: rope.sin)
    backend.writeKV(k: k, v: v, slots: batch.slots, kCache: cache.keys[layer], vCache: cache.values[layer])
    let attended = workspace.tensor("attended", q.shape)  // [T, Hq * D]
    backend.attention(
      q: q, positions: batch.positions, sequences: batch.sequences, kCache: cache.keys[layer],
      vCache: cache.values[layer], shape: shape, into: attended)
    backend.linear(attended, oProj, bias: nil, into: out)
  }
}
