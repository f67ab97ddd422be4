import SeesawModel
import SeesawParallel
import SeesawSim

extension LLMEngine {
  /// An engine whose replicas run on a modelled cluster: the real schedulers (the baseline for a static plan,
  /// Seesaw's for two layouts) and block managers, sized from the devices' memory, with `SimulatedExecutor`s. K/V
  /// values take `kvBytesPerValue` bytes (default: the device's value size).
  public static func simulated(
    model: ModelConfig, cluster: Cluster, plan: PhasePlan, config: EngineConfig, kvBytesPerValue: Double? = nil
  ) throws -> LLMEngine {
    guard plan.worldSize == cluster.count else {
      throw SimulationError.wrongDeviceCount(layout: plan.description, devices: cluster.count)
    }
    let cost = CostModel(model: model, cluster: cluster, kvBytesPerValue: kvBytesPerValue)
    // A replica's KV capacity is what its tightest layout leaves on each device.
    let blocks = try [plan.prefill, plan.decode].map { try cost.numKVBlocks($0, blockSize: config.blockSize) }.min()!
    let hostBlocks = config.numHostBlocks ?? Self.hostBlocks(cost: cost, plan: plan, blockSize: config.blockSize)
    let replicas: [(Scheduler, Executor)] = (0..<plan.dp).map { _ in
      let scheduler: Scheduler =
        plan.isStatic
        ? ContinuousBatchingScheduler(config: config, numBlocks: blocks)
        : SeesawScheduler(config: config, numBlocks: blocks, numPrefillBlocks: blocks, numHostBlocks: hostBlocks)
      return (scheduler, SimulatedExecutor(cost: cost, plan: plan))
    }
    return try LLMEngine(
      replicas: replicas, runtime: nil,
      maxTokensPerSequence: (plan.isStatic ? blocks : min(blocks, hostBlocks)) * config.blockSize, tokenizer: nil,
      eosTokenIDs: [], vocabSize: model.vocabSize, config: config)
  }

  /// Host K/V blocks per replica: half of the host memory left after the two pinned weight copies of Seesaw.
  static func hostBlocks(cost: CostModel, plan: PhasePlan, blockSize: Int) -> Int {
    let devices = Double(plan.prefill.replicaSize)
    let weights = 2 * cost.weightBytesPerDevice(plan.prefill) * devices
    let free = max(0, cost.cluster.device.hostMemoryBytes * devices - weights) / 2
    let perToken = 2 * Double(cost.model.numLayers * cost.model.kvDim) * cost.kvBytesPerValue
    return max(1, Int(free / (perToken * Double(blockSize))))
  }

  /// Runs requests of the given lengths to completion: prompts of placeholder tokens, exactly `output` tokens each
  /// (ignore_eos). What a simulated workload is.
  public func generate(lengths: [(input: Int, output: Int)]) throws -> [RequestOutput] {
    let params = lengths.map { l -> SamplingParams in
      var p = SamplingParams.greedy(maxTokens: l.output)
      p.ignoreEOS = true
      return p
    }
    return try generate(lengths.map { .tokens(Array(repeating: 1, count: $0.input)) }, params: params)
  }

  /// Virtual seconds of all steps (the simulated run's elapsed time).
  public var simulatedSeconds: Double { metrics.stepSeconds }
}
