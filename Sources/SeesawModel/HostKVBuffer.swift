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
  /// [numLayers, 2, numKVHeads, numBlocks * blockSize, headDim]
  let data: UnsafeMutablePointer<Float>
  private let release: () -> Void

  /// A buffer in this process's memory (ranks that are threads share it). Pages are touched only when written.
  public init(config: ModelConfig, numBlocks: Int, blockSize: Int) {
    precondition(numBlocks > 0, "a host KV buffer needs blocks")
    numLayers = config.numLayers
    numKVHeads = config.numKVHeads
    headDim = config.headDim
    self.blockSize = blockSize
    self.numBlocks = numBlocks
    let count = Self.floats(config: config, numBlocks: numBlocks, blockSize: blockSize)
    let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
    data = p
    release = { p.deallocate() }
  }

  /// A buffer over `count` floats at `pointer` (a shared-memory mapping), released by `release`.
  init(
    config: ModelConfig, numBlocks: Int, blockSize: Int, pointer: UnsafeMutablePointer<Float>,
    release: @escaping () -> Void
  ) {
    numLayers = config.numLayers
    numKVHeads = config.numKVHeads
    headDim = config.headDim
    self.blockSize = blockSize
    self.numBlocks = numBlocks
    data = pointer
    self.release = release
  }

  deinit { release() }

  static func floats(config: ModelConfig, numBlocks: Int, blockSize: Int) -> Int {
    config.numLayers * 2 * config.numKVHeads * numBlocks * blockSize * config.headDim
  }

  /// Bytes of one block (all layers, K and V, f32).
  public static func bytesPerBlock(config: ModelConfig, blockSize: Int) -> Int {
    2 * config.numLayers * config.numKVHeads * blockSize * config.headDim * MemoryLayout<Float>.size
  }

  public var numTokens: Int { numBlocks * blockSize }

  /// Start of the run [token, headDim] of (layer, k|v, head).
  @inline(__always) func run(layer: Int, value: Bool, head: Int) -> UnsafeMutablePointer<Float> {
    data + ((layer * 2 + (value ? 1 : 0)) * numKVHeads + head) * numTokens * headDim
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
    precondition(
      deviceTable.count * cache.blockSize >= numTokens && hostTable.count * blockSize >= numTokens,
      "block tables too short for \(numTokens) tokens")
    let d = headDim
    for (local, layer) in layers.enumerated() {
      for (value, device) in [(false, cache.keys[local]), (true, cache.values[local])] {
        for head in heads {
          let host = run(layer: layer, value: value, head: head)
          let column = (head - cacheHeads.lowerBound) * d
          for p in 0..<numTokens {
            let slot = Int(deviceTable[p / cache.blockSize]) * cache.blockSize + p % cache.blockSize
            let hostRow = host + (Int(hostTable[p / blockSize]) * blockSize + p % blockSize) * d
            let deviceRow = device.data + slot * cache.kvDim + column
            if toHost { hostRow.update(from: deviceRow, count: d) } else { deviceRow.update(from: hostRow, count: d) }
          }
        }
      }
    }
  }
}
