import ArgumentParser
import Foundation
import SeesawTensor

/// `seesaw bench attention`: the paged attention kernel alone, on random K/V, for a prefill chunk and for decode
/// batches (default shape: SmolLM2-135M, 9 query heads over 3 KV heads of 64).
struct BenchAttentionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attention",
    abstract: "GFLOP/s and GB/s of K/V read of paged attention: one prefill chunk, and decode at several batches.")

  @Option(name: .customLong("prefill-tokens"), help: "Prefill chunk lengths (one sequence from position 0).")
  var prefillTokens = "512,2048"

  @Option(name: .customLong("batch-sizes"), help: "Decode batch sizes, comma-separated.")
  var batchSizes = "1,16,64"

  @Option(help: "Decode context lengths (positions attended, the new token included), comma-separated.")
  var contexts = "512,2048"

  @Option(name: .customLong("heads"), help: "Query heads.") var numHeads = 9
  @Option(name: .customLong("kv-heads"), help: "Key/value heads.") var numKVHeads = 3
  @Option(name: .customLong("head-dim"), help: "Head dimension.") var headDim = 64
  @Option(name: .customLong("block-size"), help: "Tokens per KV block.") var blockSize = 16
  @Option(name: .customLong("sliding-window"), help: "Sliding window (none by default).") var slidingWindow: Int?
  @Option(help: "Timed calls per case; the best is reported.") var repeats = 5
  @Option(
    help:
      "Layers, each with its own K/V, run one after another per timed call (per layer times are reported): with many, K/V come from memory as in a model step rather than from cache."
  )
  var layers = 1

  @Option(name: .customLong("kv-cache-dtype"), help: "How the cache stores K and V: f32 or bf16.")
  var kvCacheDType = "f32"

  func run() throws {
    let dtype = try EngineOptions.parseKVCacheDType(kvCacheDType)
    let prefills = try list(prefillTokens, "--prefill-tokens")
    let batches = try list(batchSizes, "--batch-sizes")
    let contextList = try list(contexts, "--contexts")
    guard numKVHeads > 0, numHeads % numKVHeads == 0, headDim > 0, blockSize > 0 else {
      throw ValidationError("--heads must be a multiple of --kv-heads; sizes must be positive")
    }
    guard layers > 0 else { throw ValidationError("--layers must be positive, not \(layers)") }
    let shape = AttentionShape(
      numHeads: numHeads, numKVHeads: numKVHeads, headDim: headDim, blockSize: blockSize,
      slidingWindow: slidingWindow)
    print(
      "heads \(numHeads), kv heads \(numKVHeads), head dim \(headDim), block size \(blockSize), window "
        + "\(slidingWindow.map(String.init) ?? "none"), \(layers) layers, \(dtype) K/V, \(ParallelFor.numThreads) threads")

    for n in prefills {
      let seconds = measure(
        shape: shape, dtype: dtype, numSequences: 1, tokensPerSequence: n, context: n, repeats: repeats)
      // Causal: token at position p attends to min(p + 1, window) keys.
      let attended = (0..<n).reduce(0.0) { $0 + Double(min($1 + 1, slidingWindow ?? Int.max)) }
      report(
        String(format: "prefill 1 x %5d: %8.1f tokens/s", n, Double(n) / seconds), seconds: seconds,
        attended: attended, kvRows: nil, dtype: dtype)
    }
    for context in contextList {
      for b in batches {
        let seconds = measure(
          shape: shape, dtype: dtype, numSequences: b, tokensPerSequence: 1, context: context, repeats: repeats)
        let attended = Double(b * min(context, slidingWindow ?? Int.max))
        report(
          String(format: "decode batch %3d, context %5d", b, context), seconds: seconds, attended: attended,
          kvRows: attended, dtype: dtype)
      }
    }
  }

  /// Prints time, GFLOP/s (QKᵀ and PV, 2 FLOPs per multiply-add) and, for decode, GB/s of the K and V rows read.
  func report(_ label: String, seconds: Double, attended: Double, kvRows: Double?, dtype: KVCacheDType) {
    let flops = 4 * Double(numHeads * headDim) * attended
    var line = String(format: "%@, %9.3f ms, %6.1f GFLOP/s", label, seconds * 1e3, flops / seconds / 1e9)
    if let kvRows {
      let bytes = 2 * Double(dtype.byteCount * numKVHeads * headDim) * kvRows
      line += String(format: ", %6.1f GB/s K/V", bytes / seconds / 1e9)
    }
    print(line)
  }

  /// Best time per layer of `repeats` calls: `numSequences` sequences whose last `tokensPerSequence` tokens (of
  /// `context` positions) are queries, over every layer's K/V in turn. Blocks of the sequences interleave, so no
  /// table is contiguous.
  func measure(
    shape: AttentionShape, dtype: KVCacheDType, numSequences: Int, tokensPerSequence: Int, context: Int, repeats: Int
  ) -> Double {
    let kvDim = numKVHeads * headDim
    let qDim = numHeads * headDim
    let blocksPerSeq = (context + blockSize - 1) / blockSize
    let numSlots = blocksPerSeq * numSequences * blockSize
    let numTokens = numSequences * tokensPerSequence
    // [numSlots, kvDim] values of dtype each
    let kCaches = (0..<layers).map { stored(numSlots * kvDim, seed: 2 * UInt64($0) + 1, dtype: dtype) }
    let vCaches = (0..<layers).map { stored(numSlots * kvDim, seed: 2 * UInt64($0) + 2, dtype: dtype) }
    let q = random(numTokens * qDim, seed: 0)  // [numTokens, qDim]
    let out = UnsafeMutablePointer<Float>.allocate(capacity: numTokens * qDim)  // [numTokens, qDim]
    defer {
      (kCaches + vCaches).forEach { $0.deallocate() }
      q.deallocate()
      out.deallocate()
    }
    var positions: [Int32] = []
    var sequences: [AttentionSequence] = []
    for s in 0..<numSequences {
      let table = (0..<blocksPerSeq).map { Int32($0 * numSequences + s) }
      sequences.append(AttentionSequence(tokenStart: positions.count, numTokens: tokensPerSequence, blockTable: table))
      positions += ((context - tokensPerSequence)..<context).map { Int32($0) }
    }
    let call = {
      for (kCache, vCache) in zip(kCaches, vCaches) {
        PagedAttention.forward(
          q: q, out: out, positions: positions, sequences: sequences, kCache: kCache, vCache: vCache, kvDType: dtype,
          shape: shape)
      }
    }
    call()  // warm-up
    return Roofline.time(repeats: repeats, call) / Double(layers)
  }

  /// `count` random values stored as `dtype`.
  func stored(_ count: Int, seed: UInt64, dtype: KVCacheDType) -> UnsafeMutableRawPointer {
    let values = random(count, seed: seed)
    guard dtype == .bf16 else { return UnsafeMutableRawPointer(values) }
    defer { values.deallocate() }
    let p = UnsafeMutableRawPointer.allocate(byteCount: 2 * count, alignment: 64)
    KVConvert.storeBF16(values, into: p, count: count)
    return p
  }

  func random(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    for i in 0..<count {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      p[i] = Float(state >> 40) / Float(1 << 23) - 1
    }
    return p
  }

  func list(_ text: String, _ name: String) throws -> [Int] {
    let values = text.split(separator: ",").compactMap { Int($0) }
    guard values.allSatisfy({ $0 > 0 }) else { throw ValidationError("\(name) must list positive integers") }
    return values
  }
}
