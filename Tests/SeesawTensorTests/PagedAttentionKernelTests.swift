import Foundation
import Testing
import CSeesawKernels

@testable import SeesawTensor

/// The straightforward paged attention the tiled kernel replaced: per query token and head, the scores over its
/// whole context, a stable softmax, then the weighted sum of values. The tests hold the kernel to it.
func referencePagedAttention(
  q: [Float], positions: [Int32], sequences: [AttentionSequence], kCache: [Float], vCache: [Float],
  shape: AttentionShape
) -> [Float] {
  // q, result [numTokens, numHeads * headDim]; caches [numSlots, numKVHeads * headDim].
  let d = shape.headDim, bs = shape.blockSize
  let kvDim = shape.numKVHeads * d, qDim = shape.numHeads * d
  let group = shape.numHeads / shape.numKVHeads
  let scale = 1 / Float(d).squareRoot()
  var out = [Float](repeating: 0, count: q.count)
  for seq in sequences {
    for t in seq.tokenStart..<(seq.tokenStart + seq.numTokens) {
      let pos = Int(positions[t])
      let first = shape.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0
      let slots = (first...pos).map { j in Int(seq.blockTable[j / bs]) * bs + j % bs }
      for h in 0..<shape.numHeads {
        let kvHead = h / group
        var scores = slots.map { slot in
          (0..<d).reduce(Float(0)) { $0 + q[t * qDim + h * d + $1] * kCache[slot * kvDim + kvHead * d + $1] } * scale
        }
        let maxScore = scores.max()!
        scores = scores.map { expf($0 - maxScore) }
        let total = scores.reduce(0, +)
        for i in 0..<d {
          var acc: Float = 0
          for (n, slot) in slots.enumerated() { acc += scores[n] * vCache[slot * kvDim + kvHead * d + i] }
          out[t * qDim + h * d + i] = acc / total
        }
      }
    }
  }
  return out
}

/// A batch over a random paged cache: each sequence has `context` positions, of which the last `numQueries` are
/// this step's queries (a decode token when 1, a prefill chunk after earlier ones otherwise). Blocks are handed
/// out in a shuffled order, so no block table is contiguous.
struct AttentionCase {
  let shape: AttentionShape
  let q: [Float]  // [numTokens, numHeads * headDim]
  let positions: [Int32]  // [numTokens]
  let sequences: [AttentionSequence]
  let kCache: [Float]  // [numSlots, numKVHeads * headDim]
  let vCache: [Float]  // [numSlots, numKVHeads * headDim]

  init(shape: AttentionShape, sequences spec: [(context: Int, numQueries: Int)], seed: UInt64) {
    self.shape = shape
    let bs = shape.blockSize
    let numBlocks = spec.reduce(0) { $0 + ($1.context + bs - 1) / bs } + 3
    // A fixed shuffle of the block ids (multiplication by a unit modulo numBlocks would be too regular).
    var order = Array(0..<numBlocks)
    var state = seed | 1
    for i in stride(from: numBlocks - 1, to: 0, by: -1) {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      order.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
    }
    var next = 0, positions: [Int32] = [], sequences: [AttentionSequence] = []
    for (context, numQueries) in spec {
      let table = (0..<((context + bs - 1) / bs)).map { _ in
        next += 1
        return Int32(order[next - 1])
      }
      sequences.append(AttentionSequence(tokenStart: positions.count, numTokens: numQueries, blockTable: table))
      positions += ((context - numQueries)..<context).map { Int32($0) }
    }
    let kvDim = shape.numKVHeads * shape.headDim
    self.positions = positions
    self.sequences = sequences
    // Larger queries make the softmax peaked, so the running max moves and the rescaling matters.
    q = randomFloats(positions.count * shape.numHeads * shape.headDim, seed: seed + 1).map { $0 * 4 }
    kCache = randomFloats(numBlocks * bs * kvDim, seed: seed + 2)
    vCache = randomFloats(numBlocks * bs * kvDim, seed: seed + 3)
  }

  /// The tiled kernel's output with the work cut for `numParts` cores; rows it never wrote stay NaN.
  func run(numParts: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: q.count)
    q.withUnsafeBufferPointer { q in
      kCache.withUnsafeBufferPointer { k in
        vCache.withUnsafeBufferPointer { v in
          out.withUnsafeMutableBufferPointer { out in
            PagedAttention.forward(
              q: q.baseAddress!, out: out.baseAddress!, positions: positions, sequences: sequences,
              kCache: k.baseAddress!, vCache: v.baseAddress!, shape: shape, numParts: numParts)
          }
        }
      }
    }
    return out
  }

  var reference: [Float] {
    referencePagedAttention(
      q: q, positions: positions, sequences: sequences, kCache: kCache, vCache: vCache, shape: shape)
  }

  /// Largest |kernel - reference| relative to max(1, |reference|); NaN (an unwritten row) counts as infinite.
  func maxRelativeError(numParts: Int) -> Float {
    return zip(run(numParts: numParts), reference).reduce(0) { worst, pair in
      let error = abs(pair.0 - pair.1) / max(1, abs(pair.1))
      return error.isNaN ? .infinity : max(worst, error)
    }
  }
}

@Suite("Paged attention kernel")
struct PagedAttentionKernelTests {
  /// Decode tokens and prefill chunks of every context length around the 16-key tiles, several starting mid-context.
  static let mixedBatch: [(context: Int, numQueries: Int)] = [
    (1, 1), (15, 1), (16, 16), (17, 1), (100, 37), (300, 1), (300, 83), (17, 17), (15, 6), (100, 1),
  ]

  @Test(
    "decode tokens and prefill chunks of several sequences match the reference for GQA groups 1, 3, 4, 8 and 9",
    arguments: [1, 3, 4, 8, 9], [64, 40])
  func mixedBatch(group: Int, headDim: Int) {
    let numKVHeads = [1: 4, 3: 3, 4: 2, 8: 1, 9: 1][group]!
    let shape = AttentionShape(numHeads: group * numKVHeads, numKVHeads: numKVHeads, headDim: headDim, blockSize: 16)
    let batch = AttentionCase(shape: shape, sequences: Self.mixedBatch, seed: UInt64(headDim + group))
    #expect(batch.maxRelativeError(numParts: 2) < 1e-5)
  }

  @Test(
    "decode tokens of 1 to 16 heads per KV head (the decode kernel's tiles) match the reference at head dims 64, 128",
    arguments: [1, 2, 3, 4, 5, 6, 7, 8, 12, 16], [64, 128])
  func decodeKernelGroups(group: Int, headDim: Int) {
    let shape = AttentionShape(numHeads: 2 * group, numKVHeads: 2, headDim: headDim, blockSize: 16)
    let contexts = [1, 15, 16, 17, 33, 300, 100]
    let batch = AttentionCase(shape: shape, sequences: contexts.map { ($0, 1) }, seed: UInt64(group * 1000 + headDim))
    #expect(batch.maxRelativeError(numParts: 2) < 1e-5)
  }

  @Test("a sliding window masks keys before it in decode tokens and prefill chunks", arguments: [1, 7, 16, 50])
  func slidingWindow(window: Int) {
    let shape = AttentionShape(numHeads: 6, numKVHeads: 2, headDim: 64, blockSize: 16, slidingWindow: window)
    let batch = AttentionCase(shape: shape, sequences: Self.mixedBatch, seed: UInt64(window))
    #expect(batch.maxRelativeError(numParts: 2) < 1e-5)
  }

  @Test("head dims off the 16-wide vectors and block sizes off the key tiles give the same results",
    arguments: [(16, 16), (48, 4), (80, 16), (128, 8), (24, 32)])
  func headDimsAndBlockSizes(headDim: Int, blockSize: Int) {
    let shape = AttentionShape(numHeads: 8, numKVHeads: 2, headDim: headDim, blockSize: blockSize)
    let batch = AttentionCase(shape: shape, sequences: Self.mixedBatch, seed: UInt64(headDim * 100 + blockSize))
    #expect(batch.maxRelativeError(numParts: 2) < 1e-5)
  }

  @Test("one long decode context split into pieces for the cores merges to the reference", arguments: [1, 2, 3, 8])
  func splitDecode(numParts: Int) {
    for window: Int? in [nil, 100] {
      let shape = AttentionShape(numHeads: 9, numKVHeads: 3, headDim: 64, blockSize: 16, slidingWindow: window)
      let batch = AttentionCase(shape: shape, sequences: [(1000, 1), (37, 1)], seed: UInt64(numParts))
      #expect(batch.maxRelativeError(numParts: numParts) < 1e-5)
    }
  }

  @Test("a prefill chunk split over many parts matches the reference, with and without a sliding window")
  func splitPrefill() {
    for window: Int? in [nil, 40] {
      let shape = AttentionShape(numHeads: 4, numKVHeads: 1, headDim: 64, blockSize: 16, slidingWindow: window)
      let batch = AttentionCase(shape: shape, sequences: [(700, 5)], seed: 9)
      #expect(batch.maxRelativeError(numParts: 8) < 1e-5)
    }
  }

  @Test("groups wider than the 16 lanes are cut into several tiles")
  func wideGroups() {
    let shape = AttentionShape(numHeads: 20, numKVHeads: 1, headDim: 32, blockSize: 16)
    let batch = AttentionCase(shape: shape, sequences: [(50, 50), (33, 1)], seed: 11)
    #expect(batch.maxRelativeError(numParts: 2) < 1e-5)
  }

  @Test("the plan covers every query tile once and gives every part a share of a long prefill")
  func planBalances() {
    let shape = AttentionShape(numHeads: 9, numKVHeads: 3, headDim: 64, blockSize: 16)
    let positions = (0..<2048).map { Int32($0) }
    let sequences = [AttentionSequence(tokenStart: 0, numTokens: 2048, blockTable: (0..<128).map { Int32($0) })]
    let plan = positions.withUnsafeBufferPointer {
      TilePlan(sequences: sequences, positions: $0.baseAddress!, shape: shape, numParts: 2)
    }
    #expect(plan.tiles.reduce(0) { $0 + $1.numLanes } == 2048 * 9)
    let costs = (0..<2).map { c in plan.tiles(inParts: c..<(c + 1)).reduce(0) { $0 + plan.tiles[$1].cost } }
    #expect(Double(abs(costs[0] - costs[1])) < 0.01 * Double(costs[0] + costs[1]))
  }

  @Test("a decode token's keys are cut into whole rounds of pieces for the cores", arguments: [128, 192, 250, 512])
  func decodeSplitsEvenly(context: Int) {
    let shape = AttentionShape(numHeads: 9, numKVHeads: 3, headDim: 64, blockSize: 16)
    let positions = [Int32(context - 1)]
    let sequences = [
      AttentionSequence(tokenStart: 0, numTokens: 1, blockTable: (0..<Int32((context + 15) / 16)).map { $0 })
    ]
    let plan = positions.withUnsafeBufferPointer {
      TilePlan(
        sequences: sequences, positions: $0.baseAddress!, shape: shape, numParts: 2,
        decodeKVHeads: PagedAttention.decodeKVHeads(shape, decodeKernel: true))
    }
    // One tile of all three KV heads, split into 2, 2, 2 and 8 pieces (192 and 250 made 3, and one core took two).
    #expect(plan.splits.count == 1 && plan.tiles.count == plan.numPartials)
    #expect(plan.numPartials % 2 == 0, "\(plan.numPartials) pieces")
    let keys = (0..<2).map { c in
      plan.tiles(inParts: c..<(c + 1)).reduce(0) { $0 + plan.tiles[$1].keyEnd - plan.tiles[$1].keyStart }
    }
    #expect(keys.reduce(0, +) == context && abs(keys[0] - keys[1]) <= 16, "keys per core \(keys)")
  }
}

extension PagedAttentionKernelTests {
  /// o [heads, headDim], m and l of one call of a decode kernel.
  typealias DecodeState = (o: [Float], m: [Float], l: [Float])

  @Test(
    "the AVX2 decode kernel leaves the AVX-512 one's state for whole rows and one KV head's part, f32 and bf16 K/V",
    .enabled(if: seesaw_gemm_available() != 0), arguments: [64, 128], [false, true])
  func avx2DecodeKernelMatchesAVX512(headDim: Int, bf16: Bool) {
    let (bs, numBlocks) = (16, 20)
    for (heads, kvHeads, cacheKVHeads) in [(9, 3, 3), (8, 1, 1), (16, 2, 2), (4, 4, 4), (3, 1, 2)] {
      let kvDim = cacheKVHeads * headDim
      let keys = randomFloats(numBlocks * bs * kvDim, seed: UInt64(heads * 7 + headDim))
      let values = randomFloats(numBlocks * bs * kvDim, seed: UInt64(heads * 11 + headDim))
      let (keysBF16, valuesBF16) = (keys.map(BFloat16.bits), values.map(BFloat16.bits))
      let q = randomFloats(heads * headDim, seed: UInt64(heads + headDim)).map { $0 * 0.3 }
      let table = (0..<Int32(numBlocks)).reversed().map { $0 }  // scattered: position 0 in the last block
      // A tile of the last KV head's part of the rows when the cache holds more KV heads than the call.
      let offset = (cacheKVHeads - kvHeads) * headDim
      for (start, end) in [(0, 1), (0, 15), (0, 16), (0, 17), (0, 100), (37, 300), (0, numBlocks * bs)] {
        func run(_ kernel: Kernel) -> DecodeState {
          var state: DecodeState = (
            [Float](repeating: .nan, count: heads * headDim), [Float](repeating: .nan, count: heads),
            [Float](repeating: .nan, count: heads)
          )
          func call(_ k: UnsafeRawPointer, _ v: UnsafeRawPointer) {
            kernel(
              q, Int32(heads), Int32(kvHeads), headDim, k, v, bf16 ? 1 : 0, table, bs, kvDim, offset,
              offset == 0 ? 1 : 0, start, end, &state.o, headDim, &state.m, &state.l)
          }
          if bf16 {
            keysBF16.withUnsafeBytes { k in valuesBF16.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!) } }
          } else {
            keys.withUnsafeBytes { k in values.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!) } }
          }
          return state
        }
        let (wide, narrow) = (run(seesaw_attention_decode), run(seesaw_attention_decode_avx2))
        func close(_ a: [Float], _ b: [Float]) -> Bool {
          zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }
        }
        let label = "\(heads)/\(kvHeads) heads, keys \(start)..<\(end)"
        #expect(close(wide.m, narrow.m) && close(wide.l, narrow.l), "\(label): m, l")
        #expect(close(wide.o, narrow.o), "\(label): o")
      }
    }
  }

  typealias Kernel = @convention(c) (
    UnsafePointer<Float>?, Int32, Int32, Int, UnsafeRawPointer?, UnsafeRawPointer?, Int32, UnsafePointer<Int32>?, Int,
    Int, Int, Int32, Int, Int, UnsafeMutablePointer<Float>?, Int, UnsafeMutablePointer<Float>?,
    UnsafeMutablePointer<Float>?
  ) -> Void
}
