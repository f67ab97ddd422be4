import SeesawModel
import SeesawParallel
import SeesawSim

/// Picks layouts by simulating them: every static layout of the cluster (with chunked prefill over a sweep of token
/// budgets, as the paper tuned vLLM) and every Seesaw pair with the same dp, on the same workload, ranked by
/// predicted throughput.
public enum Planner {
  /// One candidate and its simulated result.
  public struct Candidate: Sendable {
    public var plan: PhasePlan
    /// The step token budget (static layouts) or the prefill budget (Seesaw plans).
    public var tokenBudget: Int
    public var tokensPerSecond: Double
    public var seconds: Double
    public var numTransitions: Int
  }

  /// Layouts dp x tp x pp of exactly `devices` ranks whose tp divides the heads and KV heads evenly (or replicates
  /// KV heads) and whose pp leaves each stage a layer.
  public static func layouts(devices: Int, model: ModelConfig) -> [ParallelConfig] {
    var out: [ParallelConfig] = []
    for dp in 1...devices where devices % dp == 0 {
      for tp in 1...(devices / dp) where (devices / dp) % tp == 0 {
        let pp = devices / dp / tp
        guard model.numHeads % tp == 0, model.numKVHeads % tp == 0 || tp % model.numKVHeads == 0,
          pp <= model.numLayers
        else { continue }
        out.append(ParallelConfig(dp: dp, tp: tp, pp: pp))
      }
    }
    return out
  }

  /// Every candidate that fits, best first. K/V values take `kvBytesPerValue` bytes (default: the device's value size).
  public static func rank(
    model: ModelConfig, cluster: Cluster, lengths: [(input: Int, output: Int)],
    budgets: [Int] = [512, 1024, 2048, 4096, 8192], kvBytesPerValue: Double? = nil
  ) -> [Candidate] {
    let run = { (plan: PhasePlan, config: EngineConfig, budget: Int) in
      Self.run(plan, config, model, cluster, lengths, budget, kvBytesPerValue: kvBytesPerValue)
    }
    let layouts = layouts(devices: cluster.count, model: model)
    var candidates: [Candidate] = []
    for layout in layouts {
      for budget in budgets {
        var config = EngineConfig()
        config.maxNumBatchedTokens = budget
        if let c = run(PhasePlan(static: layout), config, budget) { candidates.append(c) }
      }
    }
    for prefill in layouts {
      for decode in layouts where decode != prefill && decode.dp == prefill.dp {
        guard let plan = try? PhasePlan(prefill: prefill, decode: decode) else { continue }
        if let c = run(plan, EngineConfig(), EngineConfig().maxPrefillTokens) {
          candidates.append(c)
        }
      }
    }
    return candidates.sorted { $0.tokensPerSecond > $1.tokensPerSecond }
  }

  static func run(
    _ plan: PhasePlan, _ config: EngineConfig, _ model: ModelConfig, _ cluster: Cluster,
    _ lengths: [(input: Int, output: Int)], _ budget: Int, kvBytesPerValue: Double?
  ) -> Candidate? {
    guard
      let engine = try? LLMEngine.simulated(
        model: model, cluster: cluster, plan: plan, config: config, kvBytesPerValue: kvBytesPerValue)
    else { return nil }
    // A request that cannot fit this layout's KV cache makes the layout unusable for the workload.
    guard (try? engine.generate(lengths: lengths)) != nil else { return nil }
    let tokens = lengths.reduce(0) { $0 + $1.input + $1.output }
    return Candidate(
      plan: plan, tokenBudget: budget, tokensPerSecond: Double(tokens) / engine.simulatedSeconds,
      seconds: engine.simulatedSeconds, numTransitions: engine.metrics.numTransitions)
  }
}
