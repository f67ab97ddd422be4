import ArgumentParser
import Foundation
import SeesawEngine
import SeesawTensor

/// Engine flags with vLLM's names; they only build an `EngineConfig`, which validates itself.
struct EngineOptions: ParsableArguments {
  @Option(
    name: .customLong("kv-cache-memory"),
    help:
      "KV cache size, e.g. 2GiB or 512MiB (default: a quarter of the memory available after the weights, at most 8 GiB)."
  )
  var kvCacheMemory: String?

  @Option(
    name: .customLong("kv-cache-dtype"),
    help: """
      How the KV cache stores K and V: auto (default: the dtype of the activations, f32 here; in simulate, the \
      device's), f32, or bf16 (half the memory and half the bytes decode attention reads; K and V rounded to \
      bfloat16).
      """)
  var kvCacheDType = "auto"

  @Option(name: .customLong("block-size"), help: "Tokens per KV block.")
  var blockSize = 16

  @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens computed per engine step.")
  var maxNumBatchedTokens = 2048

  @Option(name: .customLong("max-num-seqs"), help: "Sequences in flight.")
  var maxNumSeqs = 256

  @Option(
    name: .customLong("enable-chunked-prefill"),
    help: "Split prompts into chunks that share steps with decodes (true/false).")
  var enableChunkedPrefill = true

  @Option(
    name: .customLong("chunk-size"), help: "Largest prefill chunk per sequence and step (default: the token budget).")
  var chunkSize: Int?

  @Option(name: .customLong("max-prefill-tokens"), help: "Seesaw plans: prompt tokens per prefill-only step.")
  var maxPrefillTokens = 4096

  @Option(
    name: .customLong("host-kv-memory"),
    help: "Seesaw plans: host KV buffer size, e.g. 4GiB (default: a quarter of the available memory, at most 16 GiB).")
  var hostKVMemory: String?

  @Option(
    name: .customLong("num-host-blocks"), help: "Seesaw plans: host KV buffer blocks (instead of --host-kv-memory).")
  var numHostBlocks: Int?

  @Option(
    name: .customLong("host-low-watermark"),
    help: "Seesaw plans: decode goes back to prefill when the buffered share of the host buffer is below this.")
  var hostLowWatermark = 0.2

  @Option(
    name: .customLong("device-watermark"),
    help: "Seesaw plans: share of decode KV blocks kept free when swapping a sequence in.")
  var deviceWatermark = 0.1

  func config() throws -> EngineConfig {
    var c = EngineConfig()
    c.blockSize = blockSize
    c.kvCacheDType = try Self.parseKVCacheDType(kvCacheDType)
    c.maxNumBatchedTokens = maxNumBatchedTokens
    c.maxNumSeqs = maxNumSeqs
    c.enableChunkedPrefill = enableChunkedPrefill
    c.chunkSize = chunkSize
    if let kvCacheMemory { c.kvCacheMemory = try Self.parseBytes(kvCacheMemory, option: "--kv-cache-memory") }
    c.maxPrefillTokens = maxPrefillTokens
    if let hostKVMemory { c.hostKVMemory = try Self.parseBytes(hostKVMemory, option: "--host-kv-memory") }
    c.numHostBlocks = numHostBlocks
    c.hostLowWatermark = hostLowWatermark
    c.deviceWatermark = deviceWatermark
    try c.validate()
    return c
  }

  /// `--kv-cache-dtype`: f32, bf16, or auto (f32).
  static func parseKVCacheDType(_ text: String) throws -> KVCacheDType {
    try explicitKVCacheDType(text) ?? .f32
  }

  /// `--kv-cache-dtype` as given: nil for auto (what the device computes in).
  static func explicitKVCacheDType(_ text: String) throws -> KVCacheDType? {
    if text == "auto" { return nil }
    guard let dtype = KVCacheDType(rawValue: text) else {
      throw ValidationError("--kv-cache-dtype must be auto, f32 or bf16, not '\(text)'")
    }
    return dtype
  }

  /// Bytes of a K/V value the simulator models for `--kv-cache-dtype` `text`: nil (the device's value size) for auto.
  static func simulatedKVBytesPerValue(_ text: String) throws -> Double? {
    try explicitKVCacheDType(text).map { Double($0.byteCount) }
  }

  /// "2GiB", "512MiB", "1.5GB", "1000000" -> bytes.
  static func parseBytes(_ text: String, option: String) throws -> Int {
    let units: [(String, Double)] = [
      ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3),
      ("G", 1_073_741_824), ("M", 1_048_576), ("B", 1),
    ]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      if let v = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 {
        return Int(v * scale)
      }
    }
    if let v = Int(text), v > 0 { return v }
    throw ValidationError("\(option): '\(text)' is not a size like 2GiB or 512MiB")
  }
}

/// Sampling flags for prompts given on the command line (JSONL lines may override each field).
struct SamplingOptions: ParsableArguments {
  @Option(help: "0 = greedy.") var temperature: Float = 0
  @Option(name: .customLong("top-p")) var topP: Float = 1
  @Option(name: .customLong("top-k")) var topK = 0
  @Option(name: .customLong("min-p")) var minP: Float = 0
  @Option(help: "Per-request seed (reproducible sampling).") var seed: UInt64?
  @Option(name: .customLong("max-tokens"), help: "Most tokens to generate per completion.") var maxTokens = 256
  @Option(help: "A stop string; repeatable.") var stop: [String] = []
  @Flag(name: .customLong("ignore-eos"), help: "Do not stop at the end-of-sequence token.") var ignoreEOS = false
  @Option(help: "Completions per prompt.") var n = 1
  @Option(help: "Top log-probabilities to return per token.") var logprobs: Int?

  var params: SamplingParams {
    var p = SamplingParams()
    p.temperature = temperature
    p.topP = topP
    p.topK = topK
    p.minP = minP
    p.seed = seed
    p.maxTokens = maxTokens
    p.stop = stop
    p.ignoreEOS = ignoreEOS
    p.n = n
    p.logprobs = logprobs
    return p
  }
}
