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
  /// Stores this step's keys and values in their slots.
  /// - Parameters: k, v [numTokens, numKVHeads * headDim]; caches [numSlots, numKVHeads * headDim].
  public static func writeKV(
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, slots: [Int32],
    kCache: UnsafeMutablePointer<Float>, vCache: UnsafeMutablePointer<Float>, kvDim: Int
  ) {
    for (t, slot) in slots.enumerated() {
      (kCache + Int(slot) * kvDim).update(from: k + t * kvDim, count: kvDim)
      (vCache + Int(slot) * kvDim).update(from: v + t * kvDim, count: kvDim)
    }
  }

  /// out[t, h, :] = softmax(q[t, h] · K[0...pos(t)]ᵀ · scale) · V[0...pos(t)] for every token and query head.
  /// - Parameters: q, out [numTokens, numHeads * headDim]; positions [numTokens].
  public static func forward(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, positions: [Int32],
    sequences: [AttentionSequence], kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
    shape: AttentionShape
  ) {
    let numUnits = sequences.count * shape.numKVHeads
    let maxContext = sequences.map { seq in
      seq.numTokens == 0 ? 0 : Int(positions[seq.tokenStart + seq.numTokens - 1]) + 1
    }.max() ?? 0
    positions.withUnsafeBufferPointer { pos in
      ParallelFor.chunks(numUnits) { units in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(maxContext, 1))
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: shape.headDim)
        defer {
          scores.deallocate()
          acc.deallocate()
        }
        for unit in units {
          let seq = sequences[unit / shape.numKVHeads]
          let kvHead = unit % shape.numKVHeads
          seq.blockTable.withUnsafeBufferPointer { table in
            attendGroup(
              q: q, out: out, positions: pos.baseAddress!, seq: seq, table: table.baseAddress!,
              kvHead: kvHead, kCache: kCache, vCache: vCache, shape: shape, scores: scores, acc: acc)
          }
        }
      }
    }
  }

  /// All queries of one sequence for the query heads that share `kvHead`.
  @inline(__always) static func attendGroup(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>,
    seq: AttentionSequence, table: UnsafePointer<Int32>, kvHead: Int,
    kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>, shape: AttentionShape,
    scores: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>
  ) {
    let d = shape.headDim
    let kvDim = shape.numKVHeads * d
    let qDim = shape.numHeads * d
    let group = shape.numHeads / shape.numKVHeads
    let scale = 1 / Float(d).squareRoot()
    let bs = shape.blockSize
    for t in seq.tokenStart..<(seq.tokenStart + seq.numTokens) {
      let pos = Int(positions[t])
      let first = shape.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0
      for g in 0..<group {
        let h = kvHead * group + g
        let qh = q + t * qDim + h * d
        // scores[j] = q · k_j · scale, then a numerically stable softmax over first...pos.
        var maxScore = -Float.infinity
        for j in first...pos {
          let slot = Int(table[j / bs]) * bs + j % bs
          let s = Matmul.dot(qh, kCache + slot * kvDim + kvHead * d, d) * scale
          scores[j] = s
          maxScore = max(maxScore, s)
        }
        var total: Float = 0
        for j in first...pos {
          let e = expf(scores[j] - maxScore)
          scores[j] = e
          total += e
        }
        acc.initialize(repeating: 0, count: d)
        for j in first...pos {
          let slot = Int(table[j / bs]) * bs + j % bs
          axpy(scores[j], vCache + slot * kvDim + kvHead * d, acc, d)
        }
        let oh = out + t * qDim + h * d
        let inv = 1 / total
        for i in 0..<d { oh[i] = acc[i] * inv }
      }
    }
  }

  /// y += a · x over n elements.
  @inline(__always) static func axpy(
    _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    var i = 0
    let av = SIMD16<Float>(repeating: a)
    while i + 16 <= n {
      var yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
      yv.addProduct(av, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self))
      UnsafeMutableRawPointer(y + i).storeBytes(of: yv, as: SIMD16<Float>.self)
      i += 16
    }
    while i < n {
      y[i] += a * x[i]
      i += 1
    }
  }
}
