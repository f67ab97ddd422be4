import SeesawTensor

/// Key/value storage of every layer in fixed-size blocks, addressed by slot (`block * blockSize + offset`).
///
/// Per layer, K and V are each [numBlocks * blockSize, numKVHeads * headDim] values of `dtype`: one slot holds one
/// token's heads contiguously. Which blocks belong to which sequence is the block manager's business (block tables
/// travel in `ForwardBatch`); the cache only stores.
public final class PagedKVCache: @unchecked Sendable {
  public let numBlocks: Int
  public let blockSize: Int
  public let numLayers: Int
  /// Values per slot and layer, for K or for V.
  public let kvDim: Int
  public let dtype: KVCacheDType
  /// Per layer: [numBlocks * blockSize, kvDim] values of `dtype`.
  public let keys: [UnsafeMutableRawPointer]
  public let values: [UnsafeMutableRawPointer]

  public convenience init(config: ModelConfig, numBlocks: Int, blockSize: Int = 16, dtype: KVCacheDType = .f32) {
    self.init(
      numLayers: config.numLayers, kvDim: config.kvDim, numBlocks: numBlocks, blockSize: blockSize, dtype: dtype)
  }

  /// A cache of `numLayers` layers of `kvDim` values per slot (a shard's layers and KV heads).
  public init(numLayers: Int, kvDim: Int, numBlocks: Int, blockSize: Int = 16, dtype: KVCacheDType = .f32) {
    precondition(numBlocks > 0 && blockSize > 0, "a KV cache needs blocks")
    self.numBlocks = numBlocks
    self.blockSize = blockSize
    self.numLayers = numLayers
    self.kvDim = kvDim
    self.dtype = dtype
    // Slots are always written before they are read, so the cache is not cleared (nor its pages touched).
    let bytes = numBlocks * blockSize * kvDim * dtype.byteCount
    keys = (0..<numLayers).map { _ in .allocate(byteCount: max(bytes, 1), alignment: 64) }
    values = (0..<numLayers).map { _ in .allocate(byteCount: max(bytes, 1), alignment: 64) }
  }

  deinit {
    for p in keys + values { p.deallocate() }
  }

  /// Layer `layer`'s keys and values, as the backend reads and writes them.
  public func layer(_ layer: Int) -> KVCacheLayer {
    KVCacheLayer(keys: keys[layer], values: values[layer], dtype: dtype)
  }

  /// Bytes of one slot's K (or V) in one layer.
  public var bytesPerSlot: Int { kvDim * dtype.byteCount }

  /// Sets every slot of every layer's K and V to `value` (in the cache's dtype): probes that time reads of a
  /// written cache.
  public func fill(_ value: Float) {
    let count = numBlocks * blockSize * kvDim
    for p in keys + values {
      switch dtype {
      case .f32: p.initializeMemory(as: Float.self, repeating: value, count: count)
      case .bf16: p.initializeMemory(as: UInt16.self, repeating: BFloat16.bits(value), count: count)
      }
    }
  }

  /// Copy-on-write of a shared block: every layer's K and V rows of block `source` into block `destination`.
  public func copyBlock(_ source: Int, to destination: Int) {
    let bytes = blockSize * bytesPerSlot
    for p in keys + values {
      (p + destination * bytes).copyMemory(from: p + source * bytes, byteCount: bytes)
    }
  }

  /// Bytes one block takes over all layers (K and V).
  public static func bytesPerBlock(config: ModelConfig, blockSize: Int, dtype: KVCacheDType) -> Int {
    2 * config.numLayers * blockSize * config.kvDim * dtype.byteCount
  }
}
