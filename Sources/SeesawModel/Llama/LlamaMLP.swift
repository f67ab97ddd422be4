import SeesawTensor

/// The SwiGLU feed-forward block: down(silu(gate(x)) * up(x)).
struct LlamaMLP {
  // `intermediate` is this shard's share.
  let gateProj: WeightMatrix  // [intermediate, hidden]
  let upProj: WeightMatrix  // [intermediate, hidden]
  let downProj: WeightMatrix  // [hidden, intermediate]
  /// gate/up as the one pass `Backend.linear` takes, made once.
  let gateUp: [WeightMatrix]

  /// This shard's columns of the MLP: gate/up rows (column-parallel) and down_proj columns (row-parallel).
  init(weights: WeightSource, prefix: String, config: ModelConfig, shard: LlamaShard) throws {
    let (h, i, cols) = (config.hiddenSize, config.intermediateSize, shard.intermediate)
    gateProj = try weights.loadMatrix("\(prefix).gate_proj.weight", shape: [i, h], rows: cols, columns: 0..<h)
    upProj = try weights.loadMatrix("\(prefix).up_proj.weight", shape: [i, h], rows: cols, columns: 0..<h)
    downProj = try weights.loadMatrix("\(prefix).down_proj.weight", shape: [h, i], rows: 0..<h, columns: cols)
    gateUp = [gateProj, upProj]
  }

  private static let noBiases: [Tensor?] = [nil, nil]

  /// out [T, hidden] = mlp(x [T, hidden]) (this shard's part of the sum).
  func forward(_ x: Tensor, backend: Backend, workspace: Workspace, into out: Tensor) {
    let gate = workspace.tensor("gate", rows: x.rows, columns: gateProj.rows)  // [T, I]
    let up = workspace.tensor("up", rows: x.rows, columns: upProj.rows)  // [T, I]
    backend.linear(x, gateUp, biases: Self.noBiases, into: [gate, up])
    backend.siluMul(gate, up)
    backend.linear(gate, downProj, bias: nil, into: out)
  }
}
