import Foundation
import Testing

@testable import SeesawTensor

/// Causal attention over contiguous per-sequence K/V, in Double: the definition paged attention must meet.
func denseAttention(
  q: [Float], k: [Float], v: [Float], positions: [Int], numHeads: Int, numKVHeads: Int, headDim: Int, window: Int?
) -> [Float] {
  // q [T, H*D]; k, v [P, Hkv*D] for positions 0..<P of one sequence.
  var out = [Float](repeating: 0, count: q.count)
  let group = numHeads / numKVHeads
  for (t, pos) in positions.enumerated() {
    for h in 0..<numHeads {
      let kvh = h / group
      let first = window.map { max(0, pos - $0 + 1) } ?? 0
      var scores: [Double] = []
      for j in first...pos {
        var s = 0.0
        for i in 0..<headDim {
          s += Double(q[(t * numHeads + h) * headDim + i]) * Double(k[(j * numKVHeads + kvh) * headDim + i])
        }
        scores.append(s / Double(headDim).squareRoot())
      }
      let m = scores.max()!
      let e = scores.map { Foundation.exp($0 - m) }
      let total = e.reduce(0, +)
      for i in 0..<headDim {
        var acc = 0.0
        for (n, j) in (first...pos).enumerated() { acc += e[n] * Double(v[(j * numKVHeads + kvh) * headDim + i]) }
        out[(t * numHeads + h) * headDim + i] = Float(acc / total)
      }
    }
  }
  return out
}

@Suite("Paged attention")
struct PagedAttentionTests {
  @Test("a prefill chunk after cached positions and a decode token match dense causal attention", arguments: [nil, 5])
  func matchesDense(window: Int?) {
    let (numHeads, numKVHeads, headDim, blockSize) = (4, 2, 16, 4)
    let kvDim = numKVHeads * headDim
    let shape = AttentionShape(
      numHeads: numHeads, numKVHeads: numKVHeads, headDim: headDim, blockSize: blockSize, slidingWindow: window)
    // Sequence A: 11 positions, the last 6 in this batch (a chunk after 5 cached). Sequence B: 3 positions, the
    // last one a decode token. Blocks are scattered and interleaved.
    let tables: [[Int32]] = [[6, 1, 4], [3]]
    let lengths = [11, 3], batchTokens = [6, 1]
    let kCache = Tensor(zeros: [8 * blockSize, kvDim]), vCache = Tensor(zeros: [8 * blockSize, kvDim])
    var seqK: [[Float]] = [], seqV: [[Float]] = []
    for s in 0..<2 {
      seqK.append(randomFloats(lengths[s] * kvDim, seed: UInt64(20 + s)))
      seqV.append(randomFloats(lengths[s] * kvDim, seed: UInt64(30 + s)))
    }
    // Cached positions are written directly; the batch's own K/V go through writeKV.
    var positions: [Int32] = [], slots: [Int32] = [], sequences: [AttentionSequence] = []
    var batchK: [Float] = [], batchV: [Float] = []
    for s in 0..<2 {
      sequences.append(AttentionSequence(tokenStart: positions.count, numTokens: batchTokens[s], blockTable: tables[s]))
      for p in 0..<lengths[s] {
        let slot = Int(tables[s][p / blockSize]) * blockSize + p % blockSize
        let kRow = Array(seqK[s][(p * kvDim)..<((p + 1) * kvDim)]), vRow = Array(seqV[s][(p * kvDim)..<((p + 1) * kvDim)])
        if p >= lengths[s] - batchTokens[s] {
          positions.append(Int32(p))
          slots.append(Int32(slot))
          batchK += kRow
          batchV += vRow
        } else {
          for i in 0..<kvDim {
            kCache.data[slot * kvDim + i] = kRow[i]
            vCache.data[slot * kvDim + i] = vRow[i]
          }
        }
      }
    }
    let q = randomFloats(positions.count * numHeads * headDim, seed: 40)
    let backend = CPUBackend()
    backend.writeKV(
      k: Tensor(batchK, shape: [positions.count, kvDim]), v: Tensor(batchV, shape: [positions.count, kvDim]),
      slots: slots, cache: KVCacheLayer(keys: kCache, values: vCache))
    let out = Tensor(zeros: [positions.count, numHeads * headDim])
    backend.attention(
      q: Tensor(q, shape: [positions.count, numHeads * headDim]), positions: positions, sequences: sequences,
      cache: KVCacheLayer(keys: kCache, values: vCache), shape: shape, into: out)

    let qDim = numHeads * headDim
    var expected: [Float] = []
    for s in 0..<2 {
      let rows = sequences[s].tokenStart..<(sequences[s].tokenStart + sequences[s].numTokens)
      expected += denseAttention(
        q: Array(q[(rows.lowerBound * qDim)..<(rows.upperBound * qDim)]), k: seqK[s], v: seqV[s],
        positions: rows.map { Int(positions[$0]) }, numHeads: numHeads, numKVHeads: numKVHeads, headDim: headDim,
        window: window)
    }
    #expect(maxAbsDiff(out.toArray(), expected) < 1e-5)
  }
}
