import ArgumentParser
import Foundation
import SeesawEngine
import SeesawModel
import SeesawTensor
import SeesawTokenizer

/// `seesaw bench throughput`: offline throughput shaped like `vllm bench throughput`.
struct BenchThroughputCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "throughput",
    abstract:
      "Requests/s and tokens/s of a whole batch, with prefill and decode separately (like vllm bench throughput).")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions
  @OptionGroup var engineOptions: EngineOptions
  @OptionGroup var parallelOptions: ParallelOptions

  @Option(help: "random, or sharegpt (first turn as prompt, second turn's length as output, vLLM's filters).")
  var dataset = "sharegpt"

  @Option(name: .customLong("dataset-path"), help: "ShareGPT (prompt, completion) pairs in vLLM's sampling order.")
  var datasetPath = ".cache/data/sharegpt-pairs.jsonl"

  @Option(name: .customLong("num-prompts")) var numPrompts = 256
  @Option(name: .customLong("input-len"), help: "Prompt tokens (random dataset).") var inputLen = 256
  @Option(name: .customLong("output-len"), help: "Output tokens (random; overrides ShareGPT's when given).")
  var outputLen: Int?
  @Option(help: "Seed of the random dataset.") var seed: UInt64 = 0
  @Option(name: .customLong("output-json"), help: "Write the results as JSON here.") var outputJSON: String?
  @Option(help: "Write one JSON line per engine step here (time, phase, tokens, K/V moves, switches).")
  var timeline: String?

  func run() throws {
    do {
      var requests: [BenchRequest] = []
      guard
        let (_, files, _, engine) = try parallelOptions.loadEngine(
          model: modelOptions, tokenizer: tokenizerOptions, engine: engineOptions,
          requests: { files, tokenizer in
            requests = try makeRequests(tokenizer: tokenizer, vocabSize: files.config.vocabSize)
            return requests.map { ($0.prompt.count, $0.params.n * $0.params.maxTokens) }
          })
      else { return }  // an MPI worker rank: it served until the driver shut the run down
      engine.recordsTimeline = timeline != nil
      var roof = Roofline.measure()
      roof.measureDotProducts()
      FileHandle.standardError.write(
        Data("bench: \(requests.count) requests, KV cache \(engine.schedulerStats.numBlocks) blocks\n".utf8))
      let progress = ProgressReporter(total: requests.count)
      var done = 0
      // Read-probe passes after decode-only steps, up to 5% of their time (the first step always), left out of the
      // run's time: decode's bandwidth is held against the memory's in the same seconds.
      let probe = ReadProbe()
      var decodeSteps = 0
      let start = Date()
      let outputs = try engine.generate(requests.map { .tokens($0.prompt) }, params: requests.map(\.params)) { e in
        done = requests.count - (e.schedulerStats.numRunning + e.schedulerStats.numWaiting)
        progress.update(done: done, engine: e)
        let m = e.metrics
        if m.numDecodeSteps > decodeSteps && (probe.samples.isEmpty || probe.seconds < 0.05 * m.decodeStepSeconds) {
          probe.sample()
        }
        decodeSteps = m.numDecodeSteps
      }
      let elapsed = Date().timeIntervalSince(start) - probe.seconds
      var after = Roofline.measure()  // the roof is the higher of the figures measured before and after the run
      after.measureDotProducts()
      roof = roof.ceiling(with: after)
      progress.finish(engine: engine)
      let ranks = try parallelOptions.shutDown(engine)
      // The cost model counts the whole model's bytes, whatever shard rank 0 holds.
      let matrices = engine.runtime == nil ? engine.modelMatrices : try files.loadModel().matrices
      let weightBytes = matrices.reduce(0) { $0 + $1.byteCount }
      report(
        outputs: outputs, engine: engine, elapsed: elapsed, roof: roof, probe: probe,
        cost: ForwardCost(
          config: files.config, weightBytes: Double(weightBytes),
          kvBytesPerValue: engine.config.kvCacheDType.byteCount), ranks: ranks,
        computePeak: roof.computePeak(modelOptions.precision, matrices: matrices).gflops)
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }

  struct BenchRequest {
    var prompt: [Int32]
    var params: SamplingParams
  }

  func makeRequests(tokenizer: Tokenizer, vocabSize: Int) throws -> [BenchRequest] {
    func params(_ outputTokens: Int) -> SamplingParams {
      var p = SamplingParams.greedy(maxTokens: outputTokens)
      p.ignoreEOS = true
      return p
    }
    switch dataset {
    case "random":
      var state = seed &+ 1
      func next() -> Int32 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int32((state >> 33) % UInt64(vocabSize))
      }
      return (0..<numPrompts).map { _ in
        BenchRequest(prompt: (0..<inputLen).map { _ in next() }, params: params(outputLen ?? 128))
      }
    case "sharegpt":
      return try ShareGPTPairs.read(path: datasetPath, tokenizer: tokenizer, count: numPrompts, outputLen: outputLen)
        .map { BenchRequest(prompt: $0.prompt, params: params($0.outputTokens)) }
    default:
      throw ValidationError("--dataset must be random or sharegpt")
    }
  }

  func report(
    outputs: [RequestOutput], engine: LLMEngine, elapsed: Double, roof: Roofline, probe: ReadProbe,
    cost: ForwardCost,
    ranks: [RankReport],
    computePeak: Double
  ) {
    let m = engine.metrics
    // Prefill against the compute roof of the precision in use (`computePeak`); decode-only steps against the read
    // probe between them (the roof measured before and after where no step was decode-only).
    let meanPrompt = Double(outputs.reduce(0) { $0 + $1.promptTokenIDs.count }) / Double(max(outputs.count, 1))
    // Steps with prompt work: their prompt tokens (one row of logits per prompt), and the decode tokens that ran
    // with them.
    let mixed = m.prefillStepDecodeTokens
    let prefillFLOPs =
      cost.flops(tokens: m.numPromptTokens, contextPerToken: meanPrompt / 2, logits: outputs.count)
      + cost.flops(
        tokens: mixed, contextPerToken: Double(m.prefillStepDecodeContext) / Double(max(mixed, 1)), logits: mixed)
    let prefillGFLOPS = m.prefillStepSeconds > 0 ? prefillFLOPs / m.prefillStepSeconds / 1e9 : 0
    let decodeBytes =
      Double(m.numDecodeSteps) * cost.weightBytes
      + cost.kvBytes(tokens: 1, context: 1) * Double(m.decodeStepContext)
    let decodeGBps = m.decodeStepSeconds > 0 ? decodeBytes / m.decodeStepSeconds / 1e9 : 0
    let readGBps = probe.meanGBps ?? roof.readGBps
    let meanDecodeBatch = m.numDecodeSteps > 0 ? Double(m.decodeStepTokens) / Double(m.numDecodeSteps) : 0
    let throughput = ThroughputReport(outputs: outputs, elapsed: elapsed, metrics: m)
    var results = throughput.json.merging([
      "time_outside_model_share": m.overheadShare,
      "schedule_time": m.scheduleSeconds,
      "sample_time": m.sampleSeconds,
      "num_preemptions": engine.schedulerStats.numPreemptions,
      "precision": modelOptions.precision.rawValue,
      "kv_cache_dtype": engine.config.kvCacheDType.rawValue,
      "num_threads": ParallelFor.numThreads,
      "prefill_gflops": prefillGFLOPS,
      "prefill_step_decode_tokens": mixed,
      "prefill_share_of_compute_peak": prefillGFLOPS / computePeak,
      "mean_decode_batch": meanDecodeBatch,
      "decode_gbps": decodeGBps,
      "decode_share_of_read_bandwidth": decodeGBps / readGBps,
      "read_gbps_between_decode_steps": probe.meanGBps ?? 0,
      "read_probe_samples": probe.samples.count,
      "roofline": [
        "fma_gflops": roof.fmaGFLOPS, "bf16_gflops": roof.bf16GFLOPS ?? 0, "int8_gops": roof.int8GOPS ?? 0,
        "amx_bf16_gflops": roof.amxBF16GFLOPS ?? 0, "amx_int8_gops": roof.amxInt8GOPS ?? 0,
        "read_gbps": roof.readGBps,
      ],
    ]) { a, _ in a }
    print(throughput.text)
    print(
      String(
        format: """
          Outside the model: %.2f%% of step time (scheduling %.3f s, sampling %.3f s); preemptions %d
          Roofline (%@, %d threads; compute roof measured before and after, higher kept): prefill %.1f GFLOP/s = %.0f%% of %.0f peak; decode steps (mean batch %.1f, %.2f ms) \
          read %.2f GB/s = %.0f%% of %.1f GB/s (%@; before/after %.1f)
          """, 100 * m.overheadShare, m.scheduleSeconds, m.sampleSeconds, engine.schedulerStats.numPreemptions,
        modelOptions.precision.rawValue, ParallelFor.numThreads, prefillGFLOPS, 100 * prefillGFLOPS / computePeak,
        computePeak, meanDecodeBatch, results["decode_step_ms"] as! Double, decodeGBps,
        100 * decodeGBps / readGBps, readGBps,
        probe.samples.isEmpty ? "no decode-only step" : "read probe between decode steps, \(probe.samples.count) passes",
        roof.readGBps))
    if !ranks.isEmpty {
      let plan = engine.runtime!.plan
      results["parallel"] = plan.description
      results["ranks"] = ranks.map { Self.json($0, plan: plan) }
      print(Self.rankTable(ranks, plan: plan))
      if let seesaw = engine.schedulerStats.seesaw {
        let json = Self.seesawJSON(seesaw, metrics: m, ranks: ranks, cost: cost)
        results["seesaw"] = json
        print(Self.seesawSummary(json))
      }
    }
    if let timeline { Self.writeTimeline(m.timeline, to: timeline) }
    if let outputJSON,
      let data = try? JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
    {
      if !FileManager.default.createFile(atPath: outputJSON, contents: data) {
        FileHandle.standardError.write(Data("bench: cannot write \(outputJSON)\n".utf8))
      }
    }
  }
}
