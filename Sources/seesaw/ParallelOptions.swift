import ArgumentParser
import Foundation
import SeesawEngine
import SeesawModel
import SeesawParallel
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

  /// The phase plan: two layouts (Seesaw) or one for both phases.
  func plan() throws -> PhasePlan {
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
    files: ModelFiles, modelOptions: ModelOptions, tokenizer: Tokenizer?, engineConfig: EngineConfig
  ) throws -> LLMEngine? {
    let plan = try plan()
    let numBlocks = { (model: LlamaModel) in
      engineConfig.numBlocks ?? max(1, KVCacheSizing.numBlocks(config: model.config, engine: engineConfig) / plan.dp)
    }
    if plan.isStatic && plan.prefill.isSingle && !MPIWorld.isLaunched {
      let model = try files.loadModel(backend: try modelOptions.makeBackend(), blockSize: engineConfig.blockSize)
      return try LLMEngine(model: model, tokenizer: tokenizer, config: engineConfig)
    }
    if modelOptions.threads == nil, let threads = MPIWorld.defaultThreadsPerRank { ParallelFor.setNumThreads(threads) }
    let backend = try modelOptions.makeBackend()
    let runtime: ParallelRuntime
    if MPIWorld.isLaunched {
      guard
        let joined = try ParallelRuntime.join(
          world: try MPIWorld.communicator(timeout: rankTimeout), files: files, plan: plan,
          blockSize: engineConfig.blockSize, backend: backend, numBlocks: numBlocks,
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
        files: files, plan: plan, blockSize: engineConfig.blockSize, timeout: rankTimeout,
        makeBackend: { CPUBackend(linearKernel: kernel, precision: precision) }, numBlocks: numBlocks,
        numHostBlocks: KVCacheSizing.numHostBlocks(config: files.config, engine: engineConfig, numReplicas: plan.dp))
    }
    FileHandle.standardError.write(
      Data(
        "seesaw: layout \(plan) on \(plan.worldSize) ranks (\(MPIWorld.isLaunched ? "MPI processes" : "threads"))\n"
          .utf8))
    return try LLMEngine(runtime: runtime, tokenizer: tokenizer, config: engineConfig)
  }

  /// The model the flags name, its tokenizer, and the engine over it; nil on an MPI worker rank, after it has served
  /// the driver until the end of the run (so only rank 0 goes on to read and write files).
  func loadEngine(model modelOptions: ModelOptions, tokenizer tokenizerOptions: TokenizerOptions, engine: EngineOptions)
    throws -> (path: String, files: ModelFiles, tokenizer: Tokenizer, engine: LLMEngine)?
  {
    let path = try modelOptions.resolvedPath()
    let files = try ModelFiles(path: path)
    let tokenizer = try tokenizerOptions.load(model: files, modelPath: path)
    guard
      let llm = try makeEngine(
        files: files, modelOptions: modelOptions, tokenizer: tokenizer, engineConfig: try engine.config())
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
