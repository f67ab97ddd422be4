import Foundation

/// One sequence's slice of a flat token batch, as paged attention sees it.
public struct AttentionSequence: Sendable, Equatable {
  /// Row of the sequence's first token in the batch.
  public var tokenStart: Int
  /// Number of consecutive batch rows that belong to the sequence.
  public var numTokens: Int
  /// Physical KV block of each logical block: position p lives in block `blockTable[p / blockSize]`.
  public var blockTable: [Int32]

  public init(tokenStart: Int, numTokens: Int, blockTable: [Int32]) {
    self.tokenStart = tokenStart
    self.numTokens = numTokens
    self.blockTable = blockTable
  }
}

/// Shapes of one attention layer over a paged KV cache.
public struct AttentionShape: Sendable {
  public var numHeads: Int
  public var numKVHeads: Int
  public var headDim: Int
  public var blockSize: Int
  /// Keys at distance ≥ this are masked (Mistral's sliding window); nil for full causal attention.
  public var slidingWindow: Int?

  public init(numHeads: Int, numKVHeads: Int, headDim: Int, blockSize: Int, slidingWindow: Int? = nil) {
    self.numHeads = numHeads
    self.numKVHeads = numKVHeads
    self.headDim = headDim
    self.blockSize = blockSize
    self.slidingWindow = slidingWindow
  }
}

/// Attention that reads keys and values from a paged cache.
///
/// The cache of one layer is [numBlocks, blockSize, numKVHeads, headDim] for K and the same for V; a token's
/// slot is `block * blockSize + offset`:
///
///     block table of a sequence: [7, 2, 9]      blockSize 4
///     positions   0  1  2  3 | 4  5  6  7 | 8  9
///     blocks      7  7  7  7 | 2  2  2  2 | 9  9
///
/// Every token of the batch is written to its slot first (`writeKV`), then each query at position p attends to
/// positions 0...p of its own sequence. A prefill chunk is thereby causal within itself and sees all earlier
/// chunks; a decode token is a chunk of one.
public enum PagedAttention {
  /// Stores this step's keys and values in their slots, in the cache's dtype, the tokens split over the cores (a
  /// 2048-token prefill step of SmolLM2 copies 3 MiB per layer; on the calling thread alone that was 1% of the step
  /// with the other core idle).
  /// - Parameters: k, v [numTokens, kvDim]; the cache layer [numSlots, kvDim].
  public static func writeKV(
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, slots: [Int32], cache: KVCacheLayer, kvDim: Int
  ) {
    let rowBytes = kvDim * cache.dtype.byteCount
    ParallelFor.chunks(slots.count, granularity: CPUBackend.rowGrain(2 * kvDim)) { tokens in
      for t in tokens {
        let kDst = cache.keys + Int(slots[t]) * rowBytes
        let vDst = cache.values + Int(slots[t]) * rowBytes
        switch cache.dtype {
        case .f32:
          kDst.copyMemory(from: k + t * kvDim, byteCount: rowBytes)
          vDst.copyMemory(from: v + t * kvDim, byteCount: rowBytes)
        case .bf16:
          KVConvert.storeBF16(k + t * kvDim, into: kDst, count: kvDim)
          KVConvert.storeBF16(v + t * kvDim, into: vDst, count: kvDim)
        }
      }
    }
  }

  /// out[t, h, :] = softmax(q[t, h] · K[0...pos(t)]ᵀ · scale) · V[0...pos(t)] for every token and query head.
  ///
  /// Flash-style: the queries are cut into tiles of 16 or 32 (token, head) lanes that share a KV head, and each tile
  /// walks its keys 16 at a time with an online softmax, so no score matrix is ever stored (see
  /// `PagedAttention+Tile.swift`). A decode token is a tile of its group's heads. Tiles are spread over the cores
  /// by estimated cost; when there are too few of them for the cores (small decode batches), long key ranges are
  /// split and their partial softmax states merged afterwards (`PagedAttention+Plan.swift`).
  /// - Parameters: q, out [numTokens, numHeads * headDim]; positions [numTokens]; kCache, vCache [numSlots,
  ///   numKVHeads * headDim] values of `kvDType` (f32 pointers convert implicitly).
  public static func forward(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, positions: [Int32],
    sequences: [AttentionSequence], kCache: UnsafeRawPointer, vCache: UnsafeRawPointer,
    kvDType: KVCacheDType = .f32, shape: AttentionShape
  ) {
    forward(
      q: q, out: out, positions: positions, sequences: sequences, kCache: kCache, vCache: vCache, kvDType: kvDType,
      shape: shape, numParts: ParallelFor.numThreads)
  }

  /// `forward` with the work cut for `numParts` cores (tests use other counts to reach the split and merge paths).
  static func forward(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, positions: [Int32],
    sequences: [AttentionSequence], kCache: UnsafeRawPointer, vCache: UnsafeRawPointer,
    kvDType: KVCacheDType = .f32, shape: AttentionShape, numParts: Int
  ) {
    precondition(shape.numHeads % shape.numKVHeads == 0, "query heads must be a multiple of KV heads")
    guard !positions.isEmpty else { return }
    positions.withUnsafeBufferPointer { pos in
      let layout = TileLayout(
        q: q, positions: pos.baseAddress!, kCache: kCache, vCache: vCache, kvDType: kvDType, shape: shape)
      let plan = TilePlan(
        sequences: sequences, positions: pos.baseAddress!, shape: shape, numParts: numParts,
        decodeKVHeads: decodeKVHeads(shape, decodeKernel: layout.decodeKernel))
      let partialStride = partialStride(paddedDim: layout.paddedDim)
      ScratchArena.with(Float.self, plan.numPartials * partialStride) { partials in
        ParallelFor.chunks(plan.numParts) { parts in
          let indices = plan.tiles(inParts: parts)
          guard !indices.isEmpty else { return }
          TileScratch.with(paddedDim: layout.paddedDim) { scratch in
            for index in indices {
              let tile = plan.tiles[index]
              sequences[tile.sequence].blockTable.withUnsafeBufferPointer { table in
                attend(tile, table: table.baseAddress!, layout: layout, scratch: scratch)
              }
              if tile.partial < 0 {
                writeOutput(tile, layout: layout, scratch: scratch, out: out)
              } else {
                savePartial(tile, layout: layout, scratch: scratch, to: partials + tile.partial * partialStride)
              }
            }
          }
        }
        for split in plan.splits {
          mergePartials(split, layout: layout, partials: partials, stride: partialStride, out: out)
        }
      }
    }
  }
}
