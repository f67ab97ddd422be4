import SeesawTensor

/// Engine options, validated once (`validate()`); the CLI's option groups only build this.
public struct EngineConfig: Sendable, Equatable {
  /// Tokens per KV block.
  public var blockSize = 16
  /// How the KV cache (and a Seesaw plan's host KV buffer) stores K and V.
  public var kvCacheDType = KVCacheDType.f32
  /// KV blocks; nil means sized from `kvCacheMemory`.
  public var numBlocks: Int? = nil
  /// Bytes for the KV cache when `numBlocks` is nil; nil means a fraction of the memory available after weights.
  public var kvCacheMemory: Int? = nil
  /// Tokens computed per step, over all sequences (prefill chunks + decode tokens).
  public var maxNumBatchedTokens = 2048
  /// Sequences in flight.
  public var maxNumSeqs = 256
  /// Split long prompts into chunks that share steps with decode tokens.
  public var enableChunkedPrefill = true
  /// Largest prefill chunk of one sequence per step (defaults to the token budget).
  public var chunkSize: Int? = nil

  // Seesaw plans (a prefill layout and a decode layout) only:
  /// Prompt tokens per prefill-only step.
  public var maxPrefillTokens = 4096
  /// Host KV buffer blocks; nil means sized from `hostKVMemory`.
  public var numHostBlocks: Int? = nil
  /// Bytes for the host KV buffer when `numHostBlocks` is nil; nil means a share of the free memory.
  public var hostKVMemory: Int? = nil
  /// Decode switches back to prefill when prompts remain and the buffered share of the host buffer falls below this.
  public var hostLowWatermark = 0.2
  /// Share of the decode cache kept free when admitting (swapping in) a buffered sequence, so that running ones can
  /// grow without evictions.
  public var deviceWatermark = 0.1

  public init() {}

  public func validate() throws {
    func check(_ ok: Bool, _ field: String, _ reason: String) throws {
      if !ok { throw EngineError.invalidConfig(field: field, reason: reason) }
    }
    try check(blockSize > 0 && blockSize <= 1024, "block-size", "must be in 1...1024, got \(blockSize)")
    try check(numBlocks.map { $0 > 0 } ?? true, "num-blocks", "must be positive")
    try check(kvCacheMemory.map { $0 > 0 } ?? true, "kv-cache-memory", "must be positive")
    try check(maxNumBatchedTokens > 0, "max-num-batched-tokens", "must be positive, got \(maxNumBatchedTokens)")
    try check(maxNumSeqs > 0, "max-num-seqs", "must be positive, got \(maxNumSeqs)")
    try check(chunkSize.map { $0 > 0 } ?? true, "chunk-size", "must be positive")
    try check(maxPrefillTokens > 0, "max-prefill-tokens", "must be positive, got \(maxPrefillTokens)")
    try check(numHostBlocks.map { $0 > 0 } ?? true, "num-host-blocks", "must be positive")
    try check(hostKVMemory.map { $0 > 0 } ?? true, "host-kv-memory", "must be positive")
    try check((0...1).contains(hostLowWatermark), "host-low-watermark", "must be in 0...1, got \(hostLowWatermark)")
    try check((0..<1).contains(deviceWatermark), "device-watermark", "must be in 0..<1, got \(deviceWatermark)")
  }

  /// The per-sequence prefill chunk.
  var effectiveChunkSize: Int { min(chunkSize ?? maxNumBatchedTokens, maxNumBatchedTokens) }
}
