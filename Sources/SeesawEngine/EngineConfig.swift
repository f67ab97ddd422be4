/// Engine options, validated once (`validate()`); the CLI's option groups only build this.
public struct EngineConfig: Sendable, Equatable {
  /// Tokens per KV block.
  public var blockSize = 16
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
  }

  /// The per-sequence prefill chunk.
  var effectiveChunkSize: Int { min(chunkSize ?? maxNumBatchedTokens, maxNumBatchedTokens) }
}
