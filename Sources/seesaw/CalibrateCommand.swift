import ArgumentParser
import Foundation
import SeesawModel
import SeesawParallel
import SeesawSim
import SeesawTensor

/// `seesaw calibrate`: this machine as a simulator device: its roof, what the engine's kernels reach of it on a
/// model at each step size, and the in-process communicator's latency and bandwidth.
///
/// The compute efficiency is a curve over the tokens of a forward pass (decode steps of 1-256 sequences, prefill steps
/// of 512-4096 prompt tokens): CPU kernels change with the batch (gemv-like decode, tiled prefill), so one figure
/// cannot serve both. Each point is the efficiency at which the simulator's cost model predicts the measured step time
/// without its LM head; the head is timed apart (passes with and without logits, alternating) and gets a curve of its
/// own by sampled rows, since one large matrix runs faster per FLOP than a layer's small ones and a pipeline puts all
/// of it in the last stage. In-process ranks share the machine: `--ranks N` also times k = 2...N forward passes at once
/// on threads, as k ranks compute together, and records how much slower the slowest of them is than one alone (the
/// device's `contention`); `--tensor-parallel N` does the same for the model's N shards in lockstep (the device's
/// `lockstepContention`). A device is what one of N ranks gets: the engine gives each in-process rank cores / N
/// kernel threads (unless `--threads` says otherwise), and so does every measurement here. The roofs are measured
/// before and after the steps (the higher of each kept) and raised to what the fastest step reached where one outran
/// them: efficiencies stop at 1, so a roof measured in a busy moment would otherwise make every step it under-rates
/// slower in the simulator than it ran.
struct CalibrateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calibrate",
    abstract: "Measure this CPU as a simulator device (peaks, the engine's efficiency on a model, communicator cost).")

  @OptionGroup var modelOptions: ModelOptions

  @Option(
    name: .shortAndLong,
    help: "Where to write the device file (for --hardware of simulate and plan).")
  var output = ".cache/cpu.json"

  @Option(
    help:
      "Ranks the device serves: each gets cores / ranks kernel threads, and the slowdown of up to this many computing at once is measured."
  )
  var ranks = 2

  @Option(
    name: .customLong("contention-tokens"), parsing: .upToNextOption,
    help: "Step sizes whose times with k ranks at once give the contention (the median ratio over them and the rounds)."
  )
  var contentionTokens = [16, 64, 512, 1024]

  @Option(help: "Rounds of measurements; each step keeps the median of its rounds.")
  var repeats = 1

  @Option(
    name: .customLong("contention-pairs"),
    help: "Timings of k ranks at once per contention step size and round, each between two of one rank alone.")
  var contentionPairs = 3

  @Option(
    name: .customLong("tensor-parallel"),
    help:
      "Also time the model's N tensor-parallel shards in lockstep (their all-reduces between) against the busiest one alone, at the contention step sizes: the device's lockstep contention."
  )
  var tensorParallel = 1

  @Option(name: .customLong("prompt-length"), help: "Prompt length of prefill steps and context of decode steps.")
  var promptLength = 128

  @Option(
    name: .customLong("step-tokens"), parsing: .upToNextOption,
    help: "Tokens of the measured steps: decode steps (one token per sequence) up to 256, prefill steps above.")
  var stepTokens = [1, 4, 16, 64, 256, 512, 1024, 2048, 4096]

  func validate() throws {
    guard ranks > 0 else { throw ValidationError("--ranks must be positive, not \(ranks)") }
    guard repeats > 0 else { throw ValidationError("--repeats must be positive, not \(repeats)") }
    guard contentionPairs > 0 else {
      throw ValidationError("--contention-pairs must be positive, not \(contentionPairs)")
    }
    guard tensorParallel >= 1 && tensorParallel <= ranks else {
      throw ValidationError("--tensor-parallel must be between 1 and --ranks (\(ranks)), not \(tensorParallel)")
    }
    guard promptLength > 0 else { throw ValidationError("--prompt-length must be positive") }
    guard !stepTokens.isEmpty, (stepTokens + contentionTokens).allSatisfy({ $0 > 0 }) else {
      throw ValidationError("--step-tokens and --contention-tokens need positive token counts")
    }
    guard !contentionTokens.isEmpty || ranks == 1 else {
      throw ValidationError("--contention-tokens needs a step size to time \(ranks) ranks at once")
    }
  }

  func run() throws {
    do {
      if modelOptions.threads == nil, let threads = MPIWorld.defaultThreadsPerRank(inProcessRanks: ranks) {
        ParallelFor.setNumThreads(threads)
      }
      let (files, first) = try modelOptions.load()
      let config = files.config
      let models = [first] + (try (1..<ranks).map { _ in try files.loadModel(backend: first.backend) })
      var roof = Roofline.measure()
      // The caches hold every measured step's sequences (contention steps too).
      let probe = StepProbe(
        config: config, promptLength: promptLength, steps: Array(Set(stepTokens + contentionTokens)).sorted())
      let caches = models.map { _ in probe.makeCache() }
      let group =
        try tensorParallel > 1 ? Self.shards(files, tp: tensorParallel, backend: first.backend, probe: probe) : nil
      let params = Double(config.linearParamsPerLayer * config.numLayers + config.vocabSize * config.hiddenSize)
      let weightBytes = Double(first.weightBytes)
      let (latency, bandwidth) = try Self.communicator()
      let memory = Double(ProcessInfo.processInfo.physicalMemory)
      var device = DeviceSpec(
        name: "cpu", peakFLOPS: roof.fmaGFLOPS * 1e9,
        memoryBandwidth: roof.readGBps * 1e9, memoryBytes: memory, linkBandwidth: bandwidth, linkLatency: latency,
        hostBandwidth: roof.readGBps * 1e9 / 2, hostMemoryBytes: memory)
      // The read roof is what a streaming loop reaches, so the memory side is taken at face value; what the kernels
      // lose (dequantization, small-batch shapes) is in the compute curve, and attention's K/V gather in its own
      // efficiency, measured below.
      device.memoryEfficiency = 1
      device.weightBytesPerParam = weightBytes / params
      device.sampleSecondsPerLogit = Self.sampleSecondsPerLogit(vocab: config.vocabSize)
      device.valueBytes = 4
      device.tokenGranularity = Matmul.rowsTokenGranularity
      // Rounds of every step size (and of k ranks at once); each step keeps the median of its rounds, which
      // resists a round disturbed by other tenants of the host.
      var times: [Int: [Double]] = [:]
      var heads: [Int: [Double]] = [:]
      var ratios: [Int: [Double]] = [:]
      var lockstepRatios: [Double] = []
      // Attention alone at the largest decode step: the most K/V, the least setup per byte.
      let attentionStep = stepTokens.filter { $0 <= StepProbe.maxDecodeBatch }.max()
      var attentionTimes: [Double] = []
      for round in 0..<repeats {
        for tokens in stepTokens.sorted() {
          times[tokens, default: []].append(try probe.time(models.prefix(1), caches.prefix(1), tokens: tokens))
          heads[tokens, default: []].append(probe.headTime(first, caches[0], tokens: tokens))
          if tokens == attentionStep { attentionTimes.append(probe.attentionTime(caches[0], tokens: tokens)) }
        }
        for k in stride(from: 2, through: ranks, by: 1) {
          for tokens in contentionTokens {
            // Alone, together, alone, ...: each together time against the mean of the two alone times around it,
            // so that a host that speeds up or slows down during the pairs biases no ratio. Together is the slowest
            // rank's time (on a shared host one core is often slower than the other for seconds at a time).
            var before = try probe.time(models.prefix(1), caches.prefix(1), tokens: tokens)
            for _ in 0..<contentionPairs {
              let together = try probe.time(models.prefix(k), caches.prefix(k), tokens: tokens)
              let after = try probe.time(models.prefix(1), caches.prefix(1), tokens: tokens)
              ratios[k, default: []].append(together / ((before + after) / 2))
              before = after
            }
          }
        }
        if let group {
          // The same pairs for the shards in lockstep against the busiest shard alone; the all-reduces' time, which
          // the cost model adds on its own, is taken out of the lockstep time first.
          let cost = CostModel(model: config, cluster: Cluster(device: device, count: tensorParallel))
          for tokens in contentionTokens {
            let allReduces =
              Double(config.numLayers) * cost.layerAllReduceSeconds(tokens: Double(tokens), tp: tensorParallel)
            var before = try probe.time(group.busiest, group.busiestCache, tokens: tokens)
            for _ in 0..<contentionPairs {
              let together = try probe.lockstepTime(group.shards[...], group.caches[...], tokens: tokens)
              let after = try probe.time(group.busiest, group.busiestCache, tokens: tokens)
              lockstepRatios.append((together - allReduces) / ((before + after) / 2))
              before = after
            }
          }
        }
        if repeats > 1 {
          FileHandle.standardError.write(Data("calibrate: round \(round + 1) of \(repeats) done\n".utf8))
        }
      }
      // The roof again after the steps, the higher of each figure kept (as the benchmarks do): one measurement can
      // land in a busy moment of the shared host.
      roof = roof.ceiling(with: Roofline.measure())
      device.peakFLOPS = roof.fmaGFLOPS * 1e9
      device.memoryBandwidth = roof.readGBps * 1e9
      let alone = times.mapValues { $0.sorted()[$0.count / 2] }
      let head = heads.mapValues { $0.sorted()[$0.count / 2] }
      // The layers' time of each step: the step without its head.
      let layers = Dictionary(uniqueKeysWithValues: alone.map { ($0, $1 - min(head[$0]!, $1 / 2)) })
      let raised = Self.raisingRoofs(device, probe: probe, layerSeconds: layers)
      if raised.peakFLOPS > device.peakFLOPS || raised.memoryBandwidth > device.memoryBandwidth {
        print(
          String(
            format: "the steps outran the measured roof: f32 FMA %.0f -> %.0f GFLOP/s, read %.1f -> %.1f GB/s",
            device.peakFLOPS / 1e9, raised.peakFLOPS / 1e9, device.memoryBandwidth / 1e9,
            raised.memoryBandwidth / 1e9))
      }
      device = raised  // its host bandwidth half the read roof, as at the start
      if let attentionStep {
        let seconds = attentionTimes.sorted()[attentionTimes.count / 2]
        let bytes =
          Double(config.numLayers)
          * CostModel(model: config, cluster: Cluster(device: device, count: 1))
          .kvReadBytes(probe.work(tokens: attentionStep), tp: 1)
        device.attentionEfficiency = bytes / seconds / device.memoryBandwidth
        print(
          String(
            format: "decode attention (%d sequences): K/V read at %.1f GB/s, %.0f%% of the read roof", attentionStep,
            bytes / seconds / 1e9, 100 * device.attentionEfficiency!))
      }
      // The layers' efficiency explains the step without its head; the head's, by its rows, the rest.
      var curve: [EfficiencyPoint] = []
      var headPoints: [Int: [Double]] = [:]
      print("tokens  step ms  head ms  efficiency  head rows  head efficiency")
      for tokens in stepTokens.sorted() {
        let headSeconds = alone[tokens]! - layers[tokens]!
        let efficiency = probe.efficiency(device: device, tokens: tokens, matching: layers[tokens]!, samples: false)
        let rows = probe.shape(tokens: tokens).sequences
        let headEfficiency = probe.headEfficiency(device: device, rows: rows, matching: headSeconds)
        curve.append(EfficiencyPoint(tokens: tokens, efficiency: efficiency))
        headPoints[rows, default: []].append(headEfficiency)
        print(
          String(
            format: "%6d %8.1f %8.1f %11.3f %10d %16.3f", tokens, alone[tokens]! * 1e3, headSeconds * 1e3, efficiency,
            rows, headEfficiency))
      }
      device.computeEfficiencyCurve = curve
      device.headEfficiencyCurve = headPoints.keys.sorted().map { rows in
        EfficiencyPoint(tokens: rows, efficiency: headPoints[rows]!.reduce(0, +) / Double(headPoints[rows]!.count))
      }
      device.computeEfficiency = curve.map(\.efficiency).max() ?? 1
      // Each ratio pairs k ranks with one rank measured right before and right after it.
      var contention = [1.0]
      for k in stride(from: 2, through: ranks, by: 1) {
        let sorted = ratios[k, default: [1]].sorted()
        contention.append(sorted[sorted.count / 2])
        print(String(format: "%d ranks at once: the slowest %.2fx slower than one alone", k, contention.last!))
      }
      device.contention = contention
      if group != nil {
        let median = lockstepRatios.sorted()[lockstepRatios.count / 2]
        device.lockstepContention = [1] + Array(repeating: median, count: tensorParallel - 1)
        print(
          String(
            format: "%d tensor-parallel shards in lockstep: the slowest %.2fx slower than the busiest alone",
            tensorParallel, median))
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try FileManager.default.createDirectory(
        at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
      try encoder.encode(device).write(to: URL(fileURLWithPath: output))
      print(
        String(
          format: """
            %@ (%d kernel threads per rank): f32 FMA %.0f GFLOP/s, read %.1f GB/s; on %@: best step %.0f%% of the FMA \
            peak; %.3f bytes per weight; all-reduce latency %.1f µs, bandwidth %.1f GB/s; greedy sampling %.2f ns \
            per logit
            wrote %@ (use --hardware %dx%@ for %d in-process ranks)
            """, device.name, ParallelFor.numThreads, device.peakFLOPS / 1e9, device.memoryBandwidth / 1e9, files.path,
          100 * device.computeEfficiency,
          device.weightBytesPerParam, latency * 1e6, bandwidth / 1e9, (device.sampleSecondsPerLogit ?? 0) * 1e9,
          output, ranks, output, ranks))
    } catch {
      fail(error)
    }
  }

  /// `device` with its compute and memory roofs raised to what the fastest step reached of each, where a step ran
  /// faster than the cost model allows at full efficiency on the roofs `Roofline` measured (a roof measured in a busy
  /// moment of the shared host): each step's efficiency is capped at 1, so without this the simulator would predict
  /// every such step slower than it ran.
  static func raisingRoofs(_ device: DeviceSpec, probe: StepProbe, layerSeconds: [Int: Double]) -> DeviceSpec {
    var (compute, memory) = (1.0, 1.0)
    for (tokens, seconds) in layerSeconds where seconds > 0 {
      let roof = probe.roofSeconds(device: device, tokens: tokens)
      compute = max(compute, roof.compute / seconds)
      memory = max(memory, roof.memory / seconds)
    }
    var raised = device
    raised.peakFLOPS *= compute
    raised.memoryBandwidth *= memory
    raised.hostBandwidth = raised.memoryBandwidth / 2
    return raised
  }
}
