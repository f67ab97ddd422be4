import Foundation
import Testing

@testable import SeesawTensor

extension AttentionCase {
  /// The kernel over a bf16 cache (the case's K/V rounded to bfloat16), or with `rounded` over an f32 cache of those
  /// same rounded values.
  func runBF16(numParts: Int, rounded: Bool) -> [Float] {
    var out = [Float](repeating: .nan, count: q.count)
    let k16 = kCache.map(BFloat16.bits)
    let v16 = vCache.map(BFloat16.bits)
    let k32 = kCache.map(BFloat16.round)
    let v32 = vCache.map(BFloat16.round)
    func call(_ k: UnsafeRawPointer, _ v: UnsafeRawPointer, _ dtype: KVCacheDType) {
      q.withUnsafeBufferPointer { q in
        out.withUnsafeMutableBufferPointer { out in
          PagedAttention.forward(
            q: q.baseAddress!, out: out.baseAddress!, positions: positions, sequences: sequences, kCache: k,
            vCache: v, kvDType: dtype, shape: shape, numParts: numParts)
        }
      }
    }
    if rounded {
      k32.withUnsafeBytes { k in v32.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!, .f32) } }
    } else {
      k16.withUnsafeBytes { k in v16.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!, .bf16) } }
    }
    return out
  }
}

@Suite("KV cache dtypes")
struct KVCacheLayerTests {
  /// Bit patterns around every rounding case: ties to even both ways, carries into the exponent, the largest
  /// finite values (which round to infinity), subnormals, infinities and NaNs (quiet and signalling).
  static let edgeBits: [UInt32] = [
    0x0000_0000, 0x8000_0000, 0x3F80_0000, 0x3F80_8000, 0x3F81_8000, 0x3F80_7FFF, 0x3F80_8001, 0x3FFF_FFFF,
    0x7F7F_FFFF, 0xFF7F_FFFF, 0x0000_0001, 0x0000_8000, 0x807F_FFFF, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000,
    0x7F80_0001, 0xFFA0_0000, 0x4049_0FDB, 0xC2F6_E979,
  ]

  @Test("16-wide bf16 stores round exactly as the scalar rounding, NaNs and the tail included")
  func storeMatchesScalarRounding() {
    var state: UInt64 = 7
    var bits = Self.edgeBits
    for _ in 0..<(3 * 16 + 5 - bits.count) {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      bits.append(UInt32(truncatingIfNeeded: state >> 29))
    }
    let values = bits.map(Float.init(bitPattern:))  // 53 values: three vectors and a tail of 5
    var stored = [UInt16](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { src in
      stored.withUnsafeMutableBytes { KVConvert.storeBF16(src.baseAddress!, into: $0.baseAddress!, count: src.count) }
    }
    #expect(stored == values.map(BFloat16.bits))
    var widened = [Float](repeating: 0, count: values.count)
    stored.withUnsafeBytes { src in
      widened.withUnsafeMutableBufferPointer { KVConvert.loadBF16(src.baseAddress!, into: $0.baseAddress!, count: 53) }
    }
    #expect(widened.map(\.bitPattern) == stored.map { UInt32($0) << 16 })
  }

  @Test(
    "attention over a bf16 cache equals attention over an f32 cache of the rounded values, bit for bit",
    arguments: [64, 40, 24])
  func bf16CacheEqualsRoundedF32(headDim: Int) {
    let shape = AttentionShape(numHeads: 6, numKVHeads: 2, headDim: headDim, blockSize: 16)
    let batch = AttentionCase(shape: shape, sequences: PagedAttentionKernelTests.mixedBatch, seed: UInt64(headDim))
    let bf16 = batch.runBF16(numParts: 2, rounded: false)
    #expect(!bf16.contains { $0.isNaN })
    #expect(bf16.map(\.bitPattern) == batch.runBF16(numParts: 2, rounded: true).map(\.bitPattern))
    // And the rounding moves the result only slightly from the f32 cache's.
    let exact = batch.reference
    #expect(zip(bf16, exact).allSatisfy { abs($0 - $1) < 0.02 * max(1, abs($1)) })
  }

  @Test("a long decode context over a bf16 cache, split for several cores, merges to the same bits")
  func bf16SplitDecode() {
    let shape = AttentionShape(numHeads: 9, numKVHeads: 3, headDim: 64, blockSize: 16)
    let batch = AttentionCase(shape: shape, sequences: [(1000, 1), (37, 1)], seed: 5)
    for numParts in [1, 3] {
      #expect(
        batch.runBF16(numParts: numParts, rounded: false).map(\.bitPattern)
          == batch.runBF16(numParts: numParts, rounded: true).map(\.bitPattern))
    }
  }

  // 300 tokens of 192: a step that writeKV splits over the cores.
  @Test(
    "writeKV stores rounded bf16 rows in the slots it is given and leaves the others alone",
    arguments: [(3, 40), (300, 192)])
  func writeKVRoundsIntoSlots(numTokens: Int, kvDim: Int) {
    let numSlots = 2 * numTokens
    let k = randomFloats(numTokens * kvDim, seed: 1)
    let v = randomFloats(numTokens * kvDim, seed: 2)
    var keys = [UInt16](repeating: 0xABCD, count: numSlots * kvDim)
    var values = [UInt16](repeating: 0xABCD, count: numSlots * kvDim)
    let slots = (0..<numTokens).map { Int32((7 * $0 + 4) % numSlots) }  // distinct: 7 is prime to 2 * numTokens
    keys.withUnsafeMutableBytes { kc in
      values.withUnsafeMutableBytes { vc in
        k.withUnsafeBufferPointer { k in
          v.withUnsafeBufferPointer { v in
            PagedAttention.writeKV(
              k: k.baseAddress!, v: v.baseAddress!, slots: slots,
              cache: KVCacheLayer(keys: kc.baseAddress!, values: vc.baseAddress!, dtype: .bf16), kvDim: kvDim)
          }
        }
      }
    }
    for slot in 0..<numSlots {
      let row = (slot * kvDim)..<((slot + 1) * kvDim)
      if let t = slots.firstIndex(of: Int32(slot)) {
        let source = (t * kvDim)..<((t + 1) * kvDim)
        #expect(Array(keys[row]) == k[source].map(BFloat16.bits))
        #expect(Array(values[row]) == v[source].map(BFloat16.bits))
      } else {
        #expect(keys[row].allSatisfy { $0 == 0xABCD } && values[row].allSatisfy { $0 == 0xABCD })
      }
    }
  }
}
