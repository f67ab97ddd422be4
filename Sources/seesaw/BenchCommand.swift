import ArgumentParser
import Foundation
import SeesawModel
import SeesawTensor

/// `seesaw bench ...`: benchmarks (commands, never timed tests).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Benchmarks.",
    subcommands: [
      BenchThroughputCommand.self, BenchRooflineCommand.self, BenchForwardCommand.self, BenchMatmulCommand.self,
      BenchDequantizeCommand.self, BenchTokenizerCommand.self, BenchAttentionCommand.self,
    ])
}

/// `seesaw bench forward`: prefill and decode throughput of the forward pass, next to the measured roofline.
struct BenchForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "forward",
    abstract: "Prefill tokens/s (one chunk) and decode tokens/s at several batch sizes, with roofline percentages.")

  @OptionGroup var modelOptions: ModelOptions

  @Option(name: .customLong("prefill-tokens"), help: "Tokens in the prefill chunk.")
  var prefillTokens = 512

  @Option(name: .customLong("batch-sizes"), help: "Decode batch sizes, comma-separated.")
  var batchSizes = "1,8,32,64"

  @Option(name: .customLong("context"), help: "Tokens already in each decoding sequence's KV cache.")
  var context = 128

  @Option(
    name: .customLong("decode-steps"),
    help: "Decode steps per batch size (timed but those right after a pass of the read probe, every 4th step).")
  var decodeSteps = 8

  @Option(help: "GEMM of the linear layers: simd (default, measured faster here) or blas (OpenBLAS sgemm).")
  var gemm: Matmul.Kernel = .simd

  func run() throws {
    let batches = batchSizes.split(separator: ",").compactMap { Int($0) }
    guard !batches.isEmpty, batches.allSatisfy({ $0 > 0 }) else {
      throw ValidationError("--batch-sizes must list positive integers")
    }
    guard decodeSteps > 0 else { throw ValidationError("--decode-steps must be positive") }
    do {
      let (files, model) = try modelOptions.load(linearKernel: gemm)
      let config = files.config
      var roof = Roofline.measure()
      roof.measureDotProducts()
      let peak = roof.computePeak(modelOptions.precision, matrices: model.matrices)
      print("model: \(files.path) (gemm: \(gemm))")
      print("roofline: \(roof)")
      let cost = ForwardCost(config: config, weightBytes: Double(model.weightBytes))
      print(String(format: "weights read per forward: %.1f MB (stored form)", cost.weightBytes / 1e6))

      // Prefill: one chunk of `prefillTokens`, logits for its last token.
      let blocksPrefill = (prefillTokens + 15) / 16
      let prefillCache = PagedKVCache(config: config, numBlocks: blocksPrefill)
      let tokens = (0..<prefillTokens).map { Int32(($0 * 7919) % config.vocabSize) }
      let batch = ForwardBatch(
        chunks: [.init(tokens: tokens, startPosition: 0, blockTable: (0..<Int32(blocksPrefill)).map { $0 })],
        blockSize: 16)
      _ = model.forward(batch, cache: prefillCache)  // warm-up
      let prefillSeconds = Roofline.time { _ = model.forward(batch, cache: prefillCache) }
      let prefillFLOPs = cost.flops(tokens: prefillTokens, contextPerToken: Double(prefillTokens) / 2, logits: 1)
      print(
        String(
          format: "prefill %d tokens: %.1f tokens/s, %.1f GFLOP/s = %.0f%% of %@ peak",
          prefillTokens, Double(prefillTokens) / prefillSeconds, prefillFLOPs / prefillSeconds / 1e9,
          100 * prefillFLOPs / prefillSeconds / 1e9 / peak.gflops, peak.name))

      // Decode: `b` sequences of `context` cached tokens, one token each per step.
      for b in batches {
        let blocksPerSeq = (context + decodeSteps + 2 + 15) / 16
        let cache = PagedKVCache(config: config, numBlocks: blocksPerSeq * b)
        let tables = (0..<b).map { s in (0..<blocksPerSeq).map { Int32(s * blocksPerSeq + $0) } }
        // Fill the caches in batches of ≤ 2048 tokens (K/V content does not change the cost).
        let perBatch = max(1, 2048 / max(context, 1))
        for first in stride(from: 0, to: b, by: perBatch) {
          let chunks = (first..<min(b, first + perBatch)).map { s in
            ForwardBatch.Chunk(tokens: Array(tokens.prefix(context)), startPosition: 0, blockTable: tables[s])
          }
          _ = model.forward(ForwardBatch(chunks: chunks, blockSize: 16), cache: cache)
        }
        func step(_ i: Int) {
          let chunks = (0..<b).map { s in
            ForwardBatch.Chunk(
              tokens: [Int32((s + i) % config.vocabSize)], startPosition: context + i, blockTable: tables[s])
          }
          _ = model.forward(ForwardBatch(chunks: chunks, blockSize: 16), cache: cache)
        }
        step(0)  // warm-up
        // A pass of the read probe after every 4th step and the last, so that the steps' bandwidth is held against
        // the memory's in the same seconds. A pass leaves the caches full of its own lines, and the step after it
        // finds none of the K/V and activations that stay in cache from one step to the next (SmolLM2 batch 1: 8.8
        // MB of f32 K/V at 192 positions): it runs but is not timed.
        let probe = ReadProbe()
        var (seconds, timed) = (0.0, 0)
        for i in 1...decodeSteps {
          let elapsed = Roofline.time(repeats: 1) { step(i) }
          if i == 1 || (i - 1) % 4 != 0 {
            seconds += elapsed
            timed += 1
          }
          if i % 4 == 0 || i == decodeSteps { probe.sample() }
        }
        seconds /= Double(timed)
        let flops = cost.flops(tokens: b, contextPerToken: Double(context), logits: b)
        let bytes = cost.weightBytes + cost.kvBytes(tokens: b, context: context)
        let readGBps = probe.meanGBps!
        print(
          String(
            format:
              "decode batch %3d: %7.1f tokens/s, step %6.2f ms, %5.1f GB/s = %3.0f%% of read bandwidth (%.1f GB/s between steps), %5.1f GFLOP/s = %3.0f%% of %@ peak",
            b, Double(b) / seconds, seconds * 1e3, bytes / seconds / 1e9, 100 * bytes / seconds / 1e9 / readGBps,
            readGBps, flops / seconds / 1e9, 100 * flops / seconds / 1e9 / peak.gflops, peak.name))
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}

/// FLOPs and bytes of one forward pass, from the model shape.
struct ForwardCost {
  let config: ModelConfig
  /// Bytes of weights a forward pass reads (linear layers and LM head as stored).
  let weightBytes: Double

  /// Parameters of one layer's linear maps.
  var layerParams: Double { Double(config.linearParamsPerLayer) }

  /// Bytes of one stored K or V value (the KV cache's dtype).
  var kvBytesPerValue = 4

  /// Bytes of K/V read by attention for `tokens` queries over `context` positions each.
  func kvBytes(tokens: Int, context: Int) -> Double {
    Double(kvBytesPerValue) * 2 * Double(config.numLayers * config.kvDim) * Double(tokens * context)
  }

  /// Linear, attention and LM-head FLOPs.
  func flops(tokens: Int, contextPerToken: Double, logits: Int) -> Double {
    let linear = 2 * layerParams * Double(config.numLayers) * Double(tokens)
    let attention = 4 * Double(config.numLayers * config.qDim) * contextPerToken * Double(tokens)
    let head = 2 * Double(config.vocabSize * config.hiddenSize * logits)
    return linear + attention + head
  }
}

extension Roofline {
  /// The compute peak prefill is held against under `precision`, and its name: the path most of `matrices`' bytes
  /// take decides. f32: FMA, or a third of AMX's BF16 peak for BF16 weights on AMX (x goes as three bf16 parts);
  /// bf16: AMX's BF16 peak, else vdpbf16ps'; int8: VNNI for the formats the int8 kernels read. Needs
  /// `measureDotProducts()` for all but FMA (the f32 FMA peak stands in without it).
  func computePeak(_ precision: ComputePrecision, matrices: [WeightMatrix]) -> (gflops: Double, name: String) {
    func mostBytes(_ takes: (WeightMatrix) -> Bool) -> Bool {
      let bytes = matrices.reduce(0) { $0 + $1.byteCount }
      return 2 * matrices.filter(takes).reduce(0) { $0 + $1.byteCount } > bytes
    }
    switch precision {
    case .f32:
      guard Matmul.amxAvailable, mostBytes({ $0.dtype == .bf16 }), let amx = amxBF16GFLOPS else {
        return (fmaGFLOPS, "f32 FMA")
      }
      return (amx / 3, "AMX BF16 / 3")
    case .bf16:
      if Matmul.amxAvailable, let amx = amxBF16GFLOPS { return (amx, "AMX BF16") }
      return bf16GFLOPS.map { ($0, "BF16 dot") } ?? (fmaGFLOPS, "f32 FMA")
    case .int8:
      guard mostBytes({ InterleavedWeights.reads($0.dtype) }), let int8GOPS else { return (fmaGFLOPS, "f32 FMA") }
      return (int8GOPS, Matmul.hasVNNI ? "int8 VNNI" : "int8 AVX2")
    }
  }
}

extension Matmul.Kernel: ExpressibleByArgument {}
