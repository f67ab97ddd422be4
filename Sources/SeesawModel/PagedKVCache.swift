import SeesawTensor

/// Key/value storage of every layer in fixed-size blocks, addressed by slot (`block * blockSize + offset`).
///
/// Per layer, K and V are each [numBlocks * blockSize, numKVHeads * headDim]: one slot holds one token's heads
/// contiguously. Which blocks belong to which sequence is the block manager's business (block tables travel in
/// `ForwardBatch`); the cache only stores.
public final class PagedKVCache: @unchecked Sendable {
  public let numBlocks: Int
  public let blockSize: Int
  public let numLayers: Int
  /// Floats per slot and layer, for K or for V.
  public let kvDim: Int
  /// Per layer: [numBlocks * blockSize, kvDim].
  public let keys: [Tensor]
  public let values: [Tensor]

  public convenience init(config: ModelConfig, numBlocks: Int, blockSize: Int = 16) {
    self.init(numLayers: config.numLayers, kvDim: config.kvDim, numBlocks: numBlocks, blockSize: blockSize)
  }

  /// A cache of `numLayers` layers of `kvDim` floats per slot (a shard's layers and KV heads).
  public init(numLayers: Int, kvDim: Int, numBlocks: Int, blockSize: Int = 16) {
    precondition(numBlocks > 0 && blockSize > 0, "a KV cache needs blocks")
    self.numBlocks = numBlocks
    self.blockSize = blockSize
    self.numLayers = numLayers
    self.kvDim = kvDim
    // Slots are always written before they are read, so the cache is not cleared (nor its pages touched).
    keys = (0..<numLayers).map { _ in Tensor(uninitialized: [numBlocks * blockSize, kvDim]) }
    values = (0..<numLayers).map { _ in Tensor(uninitialized: [numBlocks * blockSize, kvDim]) }
  }

  /// Copy-on-write of a shared block: every layer's K and V rows of block `source` into block `destination`.
  public func copyBlock(_ source: Int, to destination: Int) {
    let rows = blockSize * kvDim
    for t in keys + values {
      (t.data + destination * rows).update(from: t.data + source * rows, count: rows)
    }
  }

  /// Bytes one block takes over all layers (K and V, f32).
  public static func bytesPerBlock(config: ModelConfig, blockSize: Int) -> Int {
    2 * config.numLayers * blockSize * config.kvDim * MemoryLayout<Float>.size
  }
}
