import ArgumentParser
import Foundation
import SeesawModel
import SeesawParallel
import SeesawSim
import SeesawTensor

/// `seesaw calibrate`: this machine as a simulator device: its roof, what the engine's kernels reach of it on a
/// model, and the in-process communicator's latency and bandwidth.
struct CalibrateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calibrate",
    abstract: "Measure this CPU as a simulator device (peaks, the engine's efficiency on a model, communicator cost).")

  @OptionGroup var modelOptions: ModelOptions

  @Option(name: .shortAndLong, help: "Where to write the device file (for --hardware of simulate and plan).")
  var output = ".cache/cpu.json"

  @Option(name: .customLong("batch-tokens"), help: "Tokens of the measured prefill step (the engine's default budget).")
  var batchTokens = 2048

  @Option(name: .customLong("prompt-length"), help: "Prompt length of the sequences that fill that step.")
  var promptLength = 128

  func run() throws {
    do {
      let (files, model) = try modelOptions.load()
      let config = files.config
      let roof = Roofline.measure()
      let cost = ForwardCost(config: config, weightBytes: Double(model.weightBytes))
      // Compute efficiency: a prefill step shaped like the engine's (prompts of `promptLength` filling
      // `batchTokens`) against the f32 FMA peak.
      let length = max(1, min(promptLength, batchTokens))
      let perSeq = (length + 15) / 16
      let numSeqs = max(1, batchTokens / length)
      let cache = PagedKVCache(config: config, numBlocks: numSeqs * perSeq + 1)
      let prompt = ForwardBatch(
        chunks: (0..<numSeqs).map { s in
          .init(
            tokens: (0..<length).map { Int32(($0 * 7919 + s) % config.vocabSize) }, startPosition: 0,
            blockTable: (0..<Int32(perSeq)).map { Int32(s * perSeq) + $0 })
        }, blockSize: 16)
      _ = model.forward(prompt, cache: cache)
      let prefill = Roofline.time { _ = model.forward(prompt, cache: cache) }
      let achievedFLOPS =
        cost.flops(tokens: numSeqs * length, contextPerToken: Double(length) / 2, logits: numSeqs) / prefill
      // Memory efficiency: batch-1 decode steps against the read bandwidth.
      let step = ForwardBatch(
        chunks: [.init(tokens: [1], startPosition: length, blockTable: (0..<Int32(perSeq)).map { $0 } + [Int32(numSeqs * perSeq)])],
        blockSize: 16)
      let decode = Roofline.time(repeats: 8) { _ = model.forward(step, cache: cache) }
      let achievedBandwidth = (cost.weightBytes + cost.kvBytes(tokens: 1, context: length + 1)) / decode
      let params = cost.layerParams * Double(config.numLayers) + Double(config.vocabSize * config.hiddenSize)
      let (latency, bandwidth) = try Self.communicator()
      let memory = Double(ProcessInfo.processInfo.physicalMemory)
      var device = DeviceSpec(
        name: "cpu", peakFLOPS: roof.fmaGFLOPS * 1e9, memoryBandwidth: roof.readGBps * 1e9, memoryBytes: memory,
        linkBandwidth: bandwidth, linkLatency: latency, hostBandwidth: roof.readGBps * 1e9 / 2, hostMemoryBytes: memory)
      device.computeEfficiency = min(1, achievedFLOPS / device.peakFLOPS)
      device.memoryEfficiency = min(1, achievedBandwidth / device.memoryBandwidth)
      device.weightBytesPerParam = cost.weightBytes / params
      device.valueBytes = 4
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(device).write(to: URL(fileURLWithPath: output))
      print(
        String(
          format: """
            %@: f32 FMA %.0f GFLOP/s, read %.1f GB/s; on %@: a prefill step reaches %.0f%% of the FMA peak, batch-1 decode \
            %.0f%% of the read bandwidth; %.3f bytes per weight; all-reduce latency %.1f µs, bandwidth %.1f GB/s
            wrote %@
            """, "cpu", roof.fmaGFLOPS, roof.readGBps, files.path, 100 * device.computeEfficiency,
          100 * device.memoryEfficiency, device.weightBytesPerParam, latency * 1e6, bandwidth / 1e9, output))
    } catch {
      fail(error)
    }
  }

  /// Two in-process ranks: the time of a one-float all-reduce (latency), and bytes per second of a 16 MB one.
  static func communicator() throws -> (latency: Double, bandwidth: Double) {
    let results = LocalCommunicator.onThreads(LocalCommunicator.world(size: 2)) { comm -> (Double, Double) in
      var one: Float = 1
      let big = UnsafeMutablePointer<Float>.allocate(capacity: 4 << 20)
      defer { big.deallocate() }
      big.initialize(repeating: 1, count: 4 << 20)
      for _ in 0..<10 { try comm.allReduceSum(&one, count: 1) }
      var start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<200 { try comm.allReduceSum(&one, count: 1) }
      let latency = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / 200
      start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<5 { try comm.allReduceSum(big, count: 4 << 20) }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / 5
      // A ring all-reduce of n ranks moves 2(n - 1)/n of the buffer: the buffer's bytes for two ranks.
      return (latency, Double(16 << 20) / max(seconds - latency, 1e-9))
    }
    return try results[0].get()
  }
}
