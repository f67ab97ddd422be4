import CSeesawKernels
import Foundation
import Testing

@testable import SeesawTensor

@Suite("Matmul on AMX tiles")
struct MatmulAMXTests {
  @Test(
    "x goes to AMX tiles as three bf16 parts that add up to it exactly, or rounded to one; padding rows are zeros",
    .enabled(if: ComputePrecision.bf16.isAvailable))
  func tilesSplitExactly() {
    // Magnitudes 2^-100 ... 2^100 with all 24 mantissa bits, both signs; 37 rows: a last tile of 5 rows, 11 padded.
    let (rows, k, paddedRows) = (37, 96, 48)
    let x = randomWords(rows * k, seed: 3).map { word -> Float in
      let mantissa = Float(word >> 40) / Float(1 << 24) + 1
      let exponent = Int((word >> 8) % 201) - 100
      return (word & 1 == 0 ? 1 : -1) * Float(sign: .plus, exponent: exponent, significand: mantissa)
    }
    func tiles(_ parts: Int) -> [[UInt16]] {
      var out = [UInt16](repeating: 0xffff, count: parts * paddedRows * k)
      out.withUnsafeMutableBufferPointer { buffer in
        let pointers = (0..<parts).map { Optional(buffer.baseAddress! + $0 * paddedRows * k) }
        // Two calls, as threads split the rows: 0..<16 and 16..<48.
        for (row0, count) in [(0, 16), (16, paddedRows - 16)] {
          seesaw_amx_tiles_bf16(x, k, rows, row0, count, Int32(parts), pointers)
        }
      }
      return (0..<parts).map { Array(out[($0 * paddedRows * k)..<(($0 + 1) * paddedRows * k)]) }
    }
    func widen(_ h: UInt16) -> Double { Double(Float(bitPattern: UInt32(h) << 16)) }
    func at(_ r: Int, _ c: Int) -> Int { (r / 16) * 16 * k + (c / 32) * 512 + (r % 16) * 32 + c % 32 }
    let (split, rounded) = (tiles(3), tiles(1)[0])
    var expectedRounded = [UInt16](repeating: 0, count: rows * k)
    seesaw_round_rows_bf16(x, rows * k, &expectedRounded)
    for r in 0..<paddedRows {
      for c in 0..<k {
        let (hi, mid, lo) = (widen(split[0][at(r, c)]), widen(split[1][at(r, c)]), widen(split[2][at(r, c)]))
        let value = r < rows ? Double(x[r * k + c]) : 0
        #expect(hi + mid + lo == value, "x[\(r), \(c)] = \(value): \(hi) + \(mid) + \(lo)")  // exact in Double
        #expect(abs(mid) <= abs(value) / 128 && abs(lo) <= abs(value) / 32768)
        #expect(rounded[at(r, c)] == (r < rows ? expectedRounded[r * k + c] : 0), "x[\(r), \(c)] rounded")
      }
    }
  }

  @Test(
    "a bf16 panel packed straight from bf16 rows equals one packed through f32, unused outputs zero",
    .enabled(if: ComputePrecision.bf16.isAvailable))
  func directPackingMatchesPackingThroughFloats() {
    for (n, k) in [(32, 64), (13, 256), (17, 32), (1, 96), (20, 40)] {
      let w = WeightMatrix.random(.bf16, rows: n, cols: k, seed: UInt64(n + k))
      var floats = [Float](repeating: 0, count: n * k)
      floats.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      var floatPanel = [Float](repeating: .nan, count: 32 * k)
      seesaw_pack_panel(floats, k, n, k, &floatPanel)
      var expected = [UInt16](repeating: 0xffff, count: 32 * k)
      seesaw_pack_panel_bf16(floatPanel, k, &expected)
      var direct = [UInt16](repeating: 0xffff, count: 32 * k)
      seesaw_pack_panel_bf16_rows(w.base, w.rowStride, n, k, &direct)
      #expect(direct == expected, "\(n) rows x \(k)")
    }
  }

  @Test(
    "on AMX, products with BF16 weights have f32's accuracy: error far below bf16-rounded x's, within f32 sums'",
    .enabled(if: Matmul.amxAvailable))
  func bf16WeightsKeepFloatAccuracy() {
    for (m, n, k) in [(37, 70, 576), (530, 40, 2048), (16, 300, 96)] {
      let w = WeightMatrix.random(.bf16, rows: n, cols: k, seed: UInt64(n * k))
      var dense = [Float](repeating: 0, count: n * k)
      dense.withUnsafeMutableBufferPointer { w.dequantize(rows: 0, count: n, into: $0.baseAddress!) }
      let x = randomFloats(m * k, seed: UInt64(m))
      let exact = naiveLinear(x, dense, m: m, n: n, k: k)
      func product(_ precision: ComputePrecision) -> [Float] {
        var y = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
          y.withUnsafeMutableBufferPointer { yp in
            if precision == .f32 {
              Matmul.linear(xp.baseAddress!, w, yp.baseAddress!, m: m, path: .amx)
            } else {
              Matmul.linear(xp.baseAddress!, w, yp.baseAddress!, m: m, precision: precision)
            }
          }
        }
        return y
      }
      let (split, rounded) = (product(.f32), product(.bf16))
      // Σ|x||w| per output bounds the sum's rounding: k additions of at most 2^-24 of it each.
      var bound: Float = 0
      for i in 0..<m {
        for j in 0..<n {
          var s: Float = 0
          for t in 0..<k { s += abs(x[i * k + t] * dense[j * k + t]) }
          bound = max(bound, s)
        }
      }
      let (splitError, roundedError) = (maxAbsDiff(split, exact), maxAbsDiff(rounded, exact))
      #expect(splitError <= Float(k) * 0x1p-24 * bound, "\(m) x \(n) x \(k): \(splitError), bound \(bound)")
      #expect(splitError * 100 < roundedError, "\(m) x \(n) x \(k): split \(splitError), rounded \(roundedError)")
      #expect(Matmul.path(m: m, dtype: .bf16) == .amx)
    }
  }
}
