import SeesawTensor

/// The SwiGLU feed-forward block: down(silu(gate(x)) * up(x)).
struct LlamaMLP {
  let gateProj: WeightMatrix  // [intermediate, hidden]
  let upProj: WeightMatrix  // [intermediate, hidden]
  let downProj: WeightMatrix  // [hidden, intermediate]

  init(weights: WeightSource, prefix: String, config: ModelConfig) throws {
    let (h, i) = (config.hiddenSize, config.intermediateSize)
    gateProj = try weights.loadMatrix("\(prefix).gate_proj.weight", shape: [i, h])
    upProj = try weights.loadMatrix("\(prefix).up_proj.weight", shape: [i, h])
    downProj = try weights.loadMatrix("\(prefix).down_proj.weight", shape: [h, i])
  }

  /// out [T, hidden] = mlp(x [T, hidden]).
  func forward(_ x: Tensor, backend: Backend, workspace: Workspace, into out: Tensor) {
    let gate = workspace.tensor("gate", [x.rows, gateProj.rows])  // [T, I]
    let up = workspace.tensor("up", [x.rows, upProj.rows])  // [T, I]
    backend.linear(x, gateProj, bias: nil, into: gate)
    backend.linear(x, upProj, bias: nil, into: up)
    backend.siluMul(gate, up)
    backend.linear(gate, downProj, bias: nil, into: out)
  }
}
