import ArgumentParser
import Foundation
import SeesawEngine
import SeesawModel
import SeesawParallel
import SeesawSim
import SeesawTensor
import SeesawTokenizer

/// Layout flags with vLLM's names (`-tp 2 -pp 2`) or the compact form (`--parallel tp2pp2`). Without mpirun the
/// ranks are threads of this process; under mpirun each process is one rank (rank 0 drives, the others serve).
struct ParallelOptions: ParsableArguments {
  @Option(
    name: [.customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)],
    help: "Tensor-parallel ranks per pipeline stage.")
  var tensorParallelSize: Int?

  @Option(
    name: [.customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)], help: "Pipeline stages.")
  var pipelineParallelSize: Int?

  @Option(
    name: [.customLong("data-parallel-size"), .customLong("dp", withSingleDash: true)],
    help: "Independent replicas; requests are split between them.")
  var dataParallelSize: Int?

  @Option(help: "The layout in compact form, e.g. tp2pp2 or dp2pp4 (instead of the three sizes).")
  var parallel: String?

  @Option(name: .customLong("prefill-parallel"), help: "Seesaw: the prefill layout (e.g. pp4), with --decode-parallel.")
  var prefillParallel: String?

  @Option(
    name: .customLong("decode-parallel"),
    help: "Seesaw: the decode layout (e.g. tp4), same ranks and dp as the prefill one.")
  var decodeParallel: String?

  @Option(name: .customLong("rank-timeout"), help: "Seconds a rank waits for another before the run fails.")
  var rankTimeout: Double = 600

  @Option(
    name: .customLong("plan"),
    help:
      "auto: the planner picks the layouts (and token budget) of this run by simulating its requests on --hardware (generate, bench throughput, run-batch; instead of the layout flags)."
  )
  var planMode: String?

  @Option(help: "Ranks of --plan auto (default: the mpirun world size, else 1).")
  var ranks: Int?

  @Option(help: "The device file of --plan auto, written by `seesaw calibrate`.")
  var hardware = ".cache/cpu.json"

  /// The phase plan: two layouts (Seesaw) or one for both phases.
  func plan() throws -> PhasePlan {
    guard planMode == nil else { throw ValidationError("--plan auto needs the run's requests; this command has none") }
    guard prefillParallel != nil || decodeParallel != nil else { return PhasePlan(static: try layout()) }
    guard let prefillParallel, let decodeParallel else {
      throw ValidationError("give both --prefill-parallel and --decode-parallel")
    }
    guard parallel == nil && [dataParallelSize, tensorParallelSize, pipelineParallelSize].allSatisfy({ $0 == nil })
    else {
      throw ValidationError("give a phase plan (--prefill-parallel/--decode-parallel) or one layout, not both")
    }
    do {
      return try PhasePlan(
        prefill: try ParallelConfig(parsing: prefillParallel), decode: try ParallelConfig(parsing: decodeParallel))
    } catch {
      throw ValidationError("\(error)")
    }
  }

  func layout() throws -> ParallelConfig {
    let sizes = [dataParallelSize, tensorParallelSize, pipelineParallelSize]
    if let parallel {
      guard sizes.allSatisfy({ $0 == nil }) else {
        throw ValidationError("give --parallel or the -tp/-pp/-dp sizes, not both")
      }
      do { return try ParallelConfig(parsing: parallel) } catch { throw ValidationError("\(error)") }
    }
    let config = ParallelConfig(dp: dataParallelSize ?? 1, tp: tensorParallelSize ?? 1, pp: pipelineParallelSize ?? 1)
    do { try config.validate() } catch { throw ValidationError("\(error)") }
    return config
  }

  /// The engine for these flags: one model on this process, or the ranks of the layout. Returns nil on an MPI
  /// worker rank, after it has served the driver until the end of the run.
  func makeEngine(
    files: ModelFiles, modelOptions: ModelOptions, tokenizer: Tokenizer?, engineConfig: EngineConfig,
    lengths: [(input: Int, output: Int)]? = nil
  ) throws -> LLMEngine? {
    var engineConfig = engineConfig
    let plan: PhasePlan
    if planMode != nil {
      guard let lengths else { throw ValidationError("--plan auto needs the run's requests; this command has none") }
      let auto = try autoPlan(config: files.config, lengths: lengths)
      plan = auto.plan
      if plan.isStatic { engineConfig.maxNumBatchedTokens = auto.tokenBudget }
    } else {
      plan = try self.plan()
    }
    let numBlocks = { (model: LlamaModel) in
      engineConfig.numBlocks ?? max(1, KVCacheSizing.numBlocks(config: model.config, engine: engineConfig) / plan.dp)
    }
    if plan.isStatic && plan.prefill.isSingle && !MPIWorld.isLaunched {
      let model = try files.loadModel(backend: try modelOptions.makeBackend(), blockSize: engineConfig.blockSize)
      return try LLMEngine(model: model, tokenizer: tokenizer, config: engineConfig)
    }
    if modelOptions.threads == nil, let threads = MPIWorld.defaultThreadsPerRank(inProcessRanks: plan.worldSize) {
      ParallelFor.setNumThreads(threads)
    }
    let backend = try modelOptions.makeBackend()
    let runtime: ParallelRuntime
    if MPIWorld.isLaunched {
      guard
        let joined = try ParallelRuntime.join(
          world: try MPIWorld.communicator(timeout: rankTimeout), files: files, plan: plan,
          blockSize: engineConfig.blockSize, kvCacheDType: engineConfig.kvCacheDType, backend: backend,
          numBlocks: numBlocks,
          numHostBlocks: {
            KVCacheSizing.numHostBlocks(config: files.config, engine: engineConfig, numReplicas: plan.dp)
          })
      else {
        try MPIWorld.finalize()
        return nil
      }
      runtime = joined
    } else {
      let (kernel, precision) = ((backend as? CPUBackend)?.linearKernel ?? .simd, modelOptions.precision)
      runtime = try ParallelRuntime.local(
        files: files, plan: plan, blockSize: engineConfig.blockSize, kvCacheDType: engineConfig.kvCacheDType,
        timeout: rankTimeout,
        makeBackend: { CPUBackend(linearKernel: kernel, precision: precision) }, numBlocks: numBlocks,
        numHostBlocks: KVCacheSizing.numHostBlocks(config: files.config, engine: engineConfig, numReplicas: plan.dp))
    }
    FileHandle.standardError.write(
      Data(
        "seesaw: layout \(plan) on \(plan.worldSize) ranks (\(MPIWorld.isLaunched ? "MPI processes" : "threads"))\n"
          .utf8))
    return try LLMEngine(runtime: runtime, tokenizer: tokenizer, config: engineConfig)
  }

  /// `--plan auto`: the planner's best plan for these request lengths on `--ranks` devices of `--hardware`. Every
  /// MPI rank computes it from the same inputs; the simulation is deterministic, so they agree.
  func autoPlan(config: ModelConfig, lengths: [(input: Int, output: Int)]) throws -> Planner.Candidate {
    guard planMode == "auto" else { throw ValidationError("--plan takes 'auto', not '\(planMode ?? "")'") }
    guard parallel == nil, prefillParallel == nil, decodeParallel == nil,
      [dataParallelSize, tensorParallelSize, pipelineParallelSize].allSatisfy({ $0 == nil })
    else { throw ValidationError("give --plan auto or layout flags, not both") }
    let count = ranks ?? MPIWorld.launchedSize ?? 1
    guard count > 0 else { throw ValidationError("--ranks must be positive, not \(count)") }
    if let world = MPIWorld.launchedSize, world != count {
      throw ValidationError("--ranks \(count) but mpirun started \(world) processes")
    }
    guard FileManager.default.fileExists(atPath: hardware) else {
      throw ValidationError("--plan auto: no device file at \(hardware); run `seesaw calibrate` first")
    }
    let cluster: Cluster
    do { cluster = try HardwareCatalog.cluster("\(count)x\(hardware)") } catch { throw ValidationError("\(error)") }
    let ranked = Planner.rank(model: config, cluster: cluster, lengths: lengths)
    guard let best = ranked.first else {
      throw ValidationError("--plan auto: no layout of \(count) ranks fits these requests on \(hardware)")
    }
    let bestStatic = ranked.first { $0.plan.isStatic }
    FileHandle.standardError.write(
      Data(
        String(
          format: "seesaw: --plan auto chose %@%@ of %d candidates: predicted %.0f tokens/s%@\n",
          best.plan.description, best.plan.isStatic ? " (token budget \(best.tokenBudget))" : "", ranked.count,
          best.tokensPerSecond,
          bestStatic.map { String(format: " (best static %@: %.0f)", $0.plan.description, $0.tokensPerSecond) } ?? ""
        ).utf8))
    return best
  }

  /// The model the flags name, its tokenizer, and the engine over it; nil on an MPI worker rank, after it has served
  /// the driver until the end of the run (so only rank 0 goes on to read and write files). `requests`, when given,
  /// makes the run's (prompt, output) token counts once the tokenizer exists, for `--plan auto`.
  func loadEngine(
    model modelOptions: ModelOptions, tokenizer tokenizerOptions: TokenizerOptions, engine: EngineOptions,
    requests: ((ModelFiles, Tokenizer) throws -> [(input: Int, output: Int)])? = nil
  ) throws -> (path: String, files: ModelFiles, tokenizer: Tokenizer, engine: LLMEngine)? {
    let path = try modelOptions.resolvedPath()
    let files = try ModelFiles(path: path)
    let tokenizer = try tokenizerOptions.load(model: files, modelPath: path)
    guard
      let llm = try makeEngine(
        files: files, modelOptions: modelOptions, tokenizer: tokenizer, engineConfig: try engine.config(),
        lengths: try requests?(files, tokenizer))
    else { return nil }
    return (path, files, tokenizer, llm)
  }

  /// Ends the run: stops the worker ranks (their reports come back) and leaves the MPI job, if any.
  func shutDown(_ engine: LLMEngine) throws -> [RankReport] {
    let reports = try engine.shutdown()
    try MPIWorld.finalize()
    return reports
  }
}
