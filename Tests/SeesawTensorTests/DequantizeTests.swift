import CSeesawKernels
import Testing

@testable import SeesawTensor

/// Deterministic pseudo-random bytes (`randomWords`).
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
  randomWords(count, seed: seed).map { UInt8(truncatingIfNeeded: $0 >> 32) }
}

/// "element i: kernel bits vs reference bits" for the first element whose bit patterns differ, nil when none do.
func firstBitDifference(_ a: [Float], _ b: [Float]) -> String? {
  guard a.count == b.count else { return "\(a.count) elements vs \(b.count)" }
  guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
  return "element \(i): \(String(a[i].bitPattern, radix: 16)) vs \(String(b[i].bitPattern, radix: 16))"
}

@Suite("Dequantization kernels")
struct DequantizeTests {
  /// f16 block scales: normal, negative, tiny, the largest finite, subnormal (positive and negative), both zeros.
  static let specialScales: [UInt16] = [0x3C00, 0x2E66, 0xB5F0, 0x0400, 0x7BFF, 0x0001, 0x83FF, 0x0000, 0x8000]

  /// Halves and bfloats at the edges: ±infinity, quiet and signaling NaNs of both signs, subnormals, ±0, 1.
  static let specialHalves: [UInt16] = [0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFDFF, 0x0001, 0x83FF, 0x0000, 0x8000, 0x3C00]
  static let specialBFloats: [UInt16] = [0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0xFFBF, 0x0001, 0x807F, 0x0000, 0x8000, 0x3F80]

  /// Byte offsets of the f16 scales inside one block.
  static func scaleOffsets(_ dtype: DType) -> [Int] {
    switch dtype {
    case .q8_0, .q4_0: return [0]
    case .q4_1, .q4_K: return [0, 2]
    case .q6_K: return [208]
    case .f32, .f16, .bf16: return []
    }
  }

  /// `numBlocks` blocks of random bytes whose f16 scales are special values or random finite halves of either sign.
  static func randomBlocks(_ dtype: DType, numBlocks: Int, seed: UInt64) -> [UInt8] {
    var bytes = randomBytes(numBlocks * dtype.bytesPerBlock, seed: seed)
    let randomScales = randomFloats(numBlocks * 2, seed: seed + 1)
    for b in 0..<numBlocks {
      for (k, offset) in scaleOffsets(dtype).enumerated() {
        let i = 2 * b + k
        let scale = i % 3 == 0 ? specialScales[(i / 3) % specialScales.count] : Float16(randomScales[i]).bitPattern
        bytes[b * dtype.bytesPerBlock + offset] = UInt8(scale & 0xFF)
        bytes[b * dtype.bytesPerBlock + offset + 1] = UInt8(scale >> 8)
      }
    }
    return bytes
  }

  /// Random 16-bit values with `specials` spread among them, as little-endian bytes.
  static func randomHalves(_ count: Int, specials: [UInt16], seed: UInt64) -> [UInt8] {
    var bytes = randomBytes(2 * count, seed: seed)
    for i in stride(from: 0, to: count, by: 3) {
      let value = specials[(i / 3) % specials.count]
      bytes[2 * i] = UInt8(value & 0xFF)
      bytes[2 * i + 1] = UInt8(value >> 8)
    }
    return bytes
  }

  /// `count` elements of `bytes` converted by `Dequantize.row` (AVX-512 or AVX2 kernels), by the C scalar fallback
  /// and by the Swift reference, each written `dstOffset` floats into its buffer (kernels align their stores), and
  /// checks that nothing around the row was written.
  static func convert(_ dtype: DType, _ bytes: [UInt8], count: Int, dstOffset: Int = 0) -> (
    row: [Float], scalar: [Float], reference: [Float]
  ) {
    let guardValue = Float(bitPattern: 0x7FA5_A5A5), guardCount = 16
    var row = [Float](repeating: guardValue, count: dstOffset + count + guardCount)
    var scalar = row
    var reference = row
    bytes.withUnsafeBytes { src in
      row.withUnsafeMutableBufferPointer { dst in
        Dequantize.row(dtype, from: src.baseAddress!, into: dst.baseAddress! + dstOffset, count: count)
      }
      scalar.withUnsafeMutableBufferPointer { dst in
        let status = seesaw_dequantize_scalar(
          dtype.rawValue, src.baseAddress!, dst.baseAddress! + dstOffset, count / dtype.blockSize)
        precondition(status == 0, "no scalar kernel for \(dtype)")
      }
      reference.withUnsafeMutableBufferPointer { dst in
        Dequantize.referenceRow(dtype, from: src.baseAddress!, into: dst.baseAddress! + dstOffset, count: count)
      }
    }
    for r in [row, scalar, reference] {
      let outside = r[..<dstOffset] + r[(dstOffset + count)...]
      #expect(outside.allSatisfy { $0.bitPattern == guardValue.bitPattern }, "\(dtype) wrote outside its row")
    }
    let (start, end) = (dstOffset, dstOffset + count)
    return (Array(row[start..<end]), Array(scalar[start..<end]), Array(reference[start..<end]))
  }

  @Test(
    "each block format's kernel and scalar fallback match the Swift reference bit for bit",
    arguments: [DType.q4_K, .q6_K, .q8_0, .q4_0, .q4_1])
  func blockFormats(dtype: DType) {
    for numBlocks in [1, 2, 3, 17] {
      let count = numBlocks * dtype.blockSize
      let bytes = Self.randomBlocks(dtype, numBlocks: numBlocks, seed: UInt64(numBlocks) * 31 + UInt64(dtype.rawValue))
      let (row, scalar, reference) = Self.convert(dtype, bytes, count: count)
      #expect(reference.allSatisfy(\.isFinite) && reference.contains { $0 != 0 })
      #expect(firstBitDifference(row, reference) == nil, "\(dtype) kernel, \(numBlocks) blocks")
      #expect(firstBitDifference(scalar, reference) == nil, "\(dtype) scalar fallback, \(numBlocks) blocks")
    }
  }

  @Test(
    "F16 rows convert bit for bit, infinities, NaNs and subnormals included; signaling NaNs come out quiet",
    arguments: [1, 15, 16, 17, 100, 4103])
  func f16(count: Int) {
    let bytes = Self.randomHalves(count, specials: Self.specialHalves, seed: UInt64(count))
    for dstOffset in 0..<16 {
      let (row, scalar, reference) = Self.convert(.f16, bytes, count: count, dstOffset: dstOffset)
      #expect(firstBitDifference(row, reference) == nil, "destination offset \(dstOffset)")
      #expect(firstBitDifference(scalar, reference) == nil, "destination offset \(dstOffset)")
    }
    let row = Self.convert(.f16, bytes, count: count).row
    for i in 0..<count where bytes[2 * i + 1] & 0x7C == 0x7C && bytes[2 * i] | bytes[2 * i + 1] & 3 != 0 {
      #expect(row[i].isNaN && !row[i].isSignalingNaN, "element \(i)")
    }
  }

  @Test("BF16 rows are the top halves of f32 bit patterns, NaN payloads kept", arguments: [1, 15, 16, 17, 100, 4103])
  func bf16(count: Int) {
    let bytes = Self.randomHalves(count, specials: Self.specialBFloats, seed: UInt64(count) + 7)
    for dstOffset in 0..<16 {
      let (row, scalar, reference) = Self.convert(.bf16, bytes, count: count, dstOffset: dstOffset)
      #expect(firstBitDifference(row, reference) == nil, "destination offset \(dstOffset)")
      #expect(firstBitDifference(scalar, reference) == nil, "destination offset \(dstOffset)")
    }
    let row = Self.convert(.bf16, bytes, count: count).row
    for i in 0..<count {
      #expect(row[i].bitPattern == UInt32(bytes[2 * i]) << 16 | UInt32(bytes[2 * i + 1]) << 24)
    }
  }

  @Test("the kernels' f16 scale table holds Float(Float16) of every f16 bit pattern, bit for bit")
  func f16TableMatchesSwift() {
    var differing = 0
    for h in 0...UInt16.max {
      let expected = Float(Float16(bitPattern: h)).bitPattern
      if seesaw_f16_table_value(h).bitPattern != expected { differing += 1 }
    }
    #expect(differing == 0)
  }
}
