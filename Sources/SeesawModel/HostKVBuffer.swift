import Foundation
import SeesawTensor

/// The second KV tier: one host buffer that every rank reaches, laid out [layer, k|v, kvHead, token, headDim], so
/// that a prefill rank's slice (its stage's layers x its KV heads) and a decode rank's slice (all layers x its KV
/// heads) are each a set of contiguous [token, headDim] runs. Tokens are allocated in blocks of `blockSize` by the
/// scheduler (a sequence's host block table), like the paged device cache.
///
///     host token of position p of a sequence = hostTable[p / blockSize] * blockSize + p % blockSize
public final class HostKVBuffer: @unchecked Sendable {
  public let numLayers: Int
  public let numKVHeads: Int
  public let headDim: Int
  public let blockSize: Int
  public let numBlocks: Int
  /// The paged caches' dtype: the buffer holds their values as they are.
  public let dtype: KVCacheDType
  /// [numLayers, 2, numKVHeads, numBlocks * blockSize, headDim] values of `dtype`
  let data: UnsafeMutableRawPointer
  private let release: () -> Void

  /// A buffer in this process's memory (ranks that are threads share it). Pages are touched only when written.
  public convenience init(config: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType) {
    precondition(numBlocks > 0, "a host KV buffer needs blocks")
    let p = UnsafeMutableRawPointer.allocate(
      byteCount: Self.bytes(config: config, numBlocks: numBlocks, blockSize: blockSize, dtype: dtype), alignment: 64)
    self.init(config: config, numBlocks: numBlocks, blockSize: blockSize, dtype: dtype, pointer: p) {
      p.deallocate()
    }
  }

  /// A buffer over `bytes(...)` bytes at `pointer` (a shared-memory mapping), released by `release`.
  init(
    config: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType, pointer: UnsafeMutableRawPointer,
    release: @escaping () -> Void
  ) {
    numLayers = config.numLayers
    numKVHeads = config.numKVHeads
    headDim = config.headDim
    self.blockSize = blockSize
    self.numBlocks = numBlocks
    self.dtype = dtype
    data = pointer
    self.release = release
  }

  deinit { release() }

  static func bytes(config: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType) -> Int {
    numBlocks * bytesPerBlock(config: config, blockSize: blockSize, dtype: dtype)
  }

  /// Bytes of one block (all layers, K and V).
  public static func bytesPerBlock(config: ModelConfig, blockSize: Int, dtype: KVCacheDType) -> Int {
    2 * config.numLayers * config.numKVHeads * blockSize * config.headDim * dtype.byteCount
  }

  public var numTokens: Int { numBlocks * blockSize }

  /// Start of the run [token, headDim] of (layer, k|v, head).
  @inline(__always) func run(layer: Int, value: Bool, head: Int) -> UnsafeMutableRawPointer {
    data + ((layer * 2 + (value ? 1 : 0)) * numKVHeads + head) * numTokens * headDim * dtype.byteCount
  }

  /// Copies the first `numTokens` positions of a sequence from a shard's paged cache into the buffer: the shard's
  /// layers, and of its KV heads those in `heads` (a head that several ranks replicate is written by one of them).
  public func store(
    from cache: PagedKVCache, layers: Range<Int>, cacheHeads: Range<Int>, heads: Range<Int>, deviceTable: [Int32],
    hostTable: [Int32], numTokens: Int
  ) {
    transfer(cache, layers, cacheHeads, heads, deviceTable, hostTable, numTokens, toHost: true)
  }

  /// Copies the first `numTokens` positions of a sequence from the buffer into a shard's paged cache (all of the
  /// shard's layers and KV heads).
  public func load(
    into cache: PagedKVCache, layers: Range<Int>, cacheHeads: Range<Int>, deviceTable: [Int32], hostTable: [Int32],
    numTokens: Int
  ) {
    transfer(cache, layers, cacheHeads, cacheHeads, deviceTable, hostTable, numTokens, toHost: false)
  }

  private func transfer(
    _ cache: PagedKVCache, _ layers: Range<Int>, _ cacheHeads: Range<Int>, _ heads: Range<Int>, _ deviceTable: [Int32],
    _ hostTable: [Int32], _ numTokens: Int, toHost: Bool
  ) {
    precondition(cache.numLayers == layers.count && cache.kvDim == cacheHeads.count * headDim, "cache of another shard")
    precondition(cache.dtype == dtype, "a \(cache.dtype) cache and a \(dtype) host buffer")
    precondition(
      deviceTable.count * cache.blockSize >= numTokens && hostTable.count * blockSize >= numTokens,
      "block tables too short for \(numTokens) tokens")
    let rowBytes = headDim * dtype.byteCount
    for (local, layer) in layers.enumerated() {
      for (value, device) in [(false, cache.keys[local]), (true, cache.values[local])] {
        for head in heads {
          let host = run(layer: layer, value: value, head: head)
          let column = (head - cacheHeads.lowerBound) * rowBytes
          for p in 0..<numTokens {
            let slot = Int(deviceTable[p / cache.blockSize]) * cache.blockSize + p % cache.blockSize
            let hostRow = host + (Int(hostTable[p / blockSize]) * blockSize + p % blockSize) * rowBytes
            let deviceRow = device + slot * cache.bytesPerSlot + column
            if toHost {
              hostRow.copyMemory(from: deviceRow, byteCount: rowBytes)
            } else {
              deviceRow.copyMemory(from: hostRow, byteCount: rowBytes)
            }
          }
        }
      }
    }
  }
}
