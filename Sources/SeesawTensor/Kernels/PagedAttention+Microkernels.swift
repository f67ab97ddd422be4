import Foundation

/// The inner loops of the tile kernel: packing, scores, value accumulation (exp2 is in VectorMath). All 16-wide
/// (AVX-512 registers); the wide kernels keep 16 of them as accumulators, so CPUs without AVX-512, where a SIMD16 is
/// two of AVX2's 16 registers, take the narrow ones (the same sums in the same order, 4-8 accumulators: on a Zen 3
/// host the wide kernels spent most of their time spilling, and prefill of 2048 tokens of SmolLM2 spent 45% of it in
/// attention).
extension PagedAttention {
  /// Whether the tile kernel takes its wide microkernels (AVX-512's 32 registers).
  static let wideRegisters = Matmul.hasAVX512

  @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
  }

  /// Lane-wise maximum in two instructions (the standard library's pointwiseMax goes lane by lane for its NaN rules;
  /// no NaN reaches here).
  @inline(__always) static func maximum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
  }

  /// Copies one key row into its column of the packed tile: dims c·16..<c·16+16 go to `dst + c·256`.
  /// - Parameters: dst points at key k's 16 floats in chunk 0 of kTile [paddedDim / 16, 16 keys, 16 dims].
  @inline(__always) static func packKey(
    _ row: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, headDim: Int
  ) {
    var c = 0
    while c + 16 <= headDim {
      store(load(row + c), dst + c * 16)
      c += 16
    }
    // The remainder's padding columns stay zero from the scratch's initialisation.
    for i in c..<headDim { dst[c * 16 + i - c] = row[i] }
  }

  /// `packKey` for a row of stored bf16 values, widened to f32.
  @inline(__always) static func packKeyBF16(
    _ row: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, headDim: Int
  ) {
    var c = 0
    while c + 16 <= headDim {
      store(KVConvert.loadBF16(row + 2 * c), dst + c * 16)
      c += 16
    }
    for i in c..<headDim { dst[c * 16 + i - c] = Dequantize.bfloat(row, 2 * i) }
  }

  /// s[k, lane] = Σ_i kTile[k, i] · qt[i, lane] for 16 keys at once: one query vector load feeds 16 FMAs with
  /// broadcast keys, all from one base pointer at constant offsets.
  /// - Parameters: qt [numChunks, 16, 16 lanes]; kTile [numChunks, 16 keys, 16]; s [16 keys, 16 lanes].
  @inline(__always) static func scores16(
    _ qt: UnsafePointer<Float>, _ kTile: UnsafePointer<Float>, numChunks: Int, into s: UnsafeMutablePointer<Float>
  ) {
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var s4 = SIMD16<Float>(), s5 = SIMD16<Float>(), s6 = SIMD16<Float>(), s7 = SIMD16<Float>()
    var s8 = SIMD16<Float>(), s9 = SIMD16<Float>(), s10 = SIMD16<Float>(), s11 = SIMD16<Float>()
    var s12 = SIMD16<Float>(), s13 = SIMD16<Float>(), s14 = SIMD16<Float>(), s15 = SIMD16<Float>()
    for c in 0..<numChunks {
      let qc = qt + c * 256, kc = kTile + c * 256
      for i in 0..<16 {
        let qv = load(qc + 16 * i)
        let k = kc + i
        s0.addProduct(SIMD16(repeating: k[0]), qv)
        s1.addProduct(SIMD16(repeating: k[16]), qv)
        s2.addProduct(SIMD16(repeating: k[32]), qv)
        s3.addProduct(SIMD16(repeating: k[48]), qv)
        s4.addProduct(SIMD16(repeating: k[64]), qv)
        s5.addProduct(SIMD16(repeating: k[80]), qv)
        s6.addProduct(SIMD16(repeating: k[96]), qv)
        s7.addProduct(SIMD16(repeating: k[112]), qv)
        s8.addProduct(SIMD16(repeating: k[128]), qv)
        s9.addProduct(SIMD16(repeating: k[144]), qv)
        s10.addProduct(SIMD16(repeating: k[160]), qv)
        s11.addProduct(SIMD16(repeating: k[176]), qv)
        s12.addProduct(SIMD16(repeating: k[192]), qv)
        s13.addProduct(SIMD16(repeating: k[208]), qv)
        s14.addProduct(SIMD16(repeating: k[224]), qv)
        s15.addProduct(SIMD16(repeating: k[240]), qv)
      }
    }
    store(s0, s); store(s1, s + 16); store(s2, s + 32); store(s3, s + 48)
    store(s4, s + 64); store(s5, s + 80); store(s6, s + 96); store(s7, s + 112)
    store(s8, s + 128); store(s9, s + 144); store(s10, s + 160); store(s11, s + 176)
    store(s12, s + 192); store(s13, s + 208); store(s14, s + 224); store(s15, s + 240)
  }

  /// `scores16` for 32 lanes, 8 keys at a time: two query vectors per dim, each broadcast key feeds 2 FMAs.
  /// - Parameters: qt [numChunks, 16, 32 lanes]; kTile [numChunks, 16 keys, 16]; s [16 keys, 32 lanes].
  @inline(__always) static func scores32(
    _ qt: UnsafePointer<Float>, _ kTile: UnsafePointer<Float>, numChunks: Int, into s: UnsafeMutablePointer<Float>
  ) {
    for half in 0..<2 {
      var s00 = SIMD16<Float>(), s01 = SIMD16<Float>(), s10 = SIMD16<Float>(), s11 = SIMD16<Float>()
      var s20 = SIMD16<Float>(), s21 = SIMD16<Float>(), s30 = SIMD16<Float>(), s31 = SIMD16<Float>()
      var s40 = SIMD16<Float>(), s41 = SIMD16<Float>(), s50 = SIMD16<Float>(), s51 = SIMD16<Float>()
      var s60 = SIMD16<Float>(), s61 = SIMD16<Float>(), s70 = SIMD16<Float>(), s71 = SIMD16<Float>()
      for c in 0..<numChunks {
        let qc = qt + c * 512, kc = kTile + c * 256 + half * 128
        for i in 0..<16 {
          let q0 = load(qc + 32 * i), q1 = load(qc + 32 * i + 16)
          let k = kc + i
          let k0 = SIMD16<Float>(repeating: k[0]), k1 = SIMD16<Float>(repeating: k[16])
          let k2 = SIMD16<Float>(repeating: k[32]), k3 = SIMD16<Float>(repeating: k[48])
          s00.addProduct(k0, q0); s01.addProduct(k0, q1); s10.addProduct(k1, q0); s11.addProduct(k1, q1)
          s20.addProduct(k2, q0); s21.addProduct(k2, q1); s30.addProduct(k3, q0); s31.addProduct(k3, q1)
          let k4 = SIMD16<Float>(repeating: k[64]), k5 = SIMD16<Float>(repeating: k[80])
          let k6 = SIMD16<Float>(repeating: k[96]), k7 = SIMD16<Float>(repeating: k[112])
          s40.addProduct(k4, q0); s41.addProduct(k4, q1); s50.addProduct(k5, q0); s51.addProduct(k5, q1)
          s60.addProduct(k6, q0); s61.addProduct(k6, q1); s70.addProduct(k7, q0); s71.addProduct(k7, q1)
        }
      }
      let o = s + half * 256
      store(s00, o); store(s01, o + 16); store(s10, o + 32); store(s11, o + 48)
      store(s20, o + 64); store(s21, o + 80); store(s30, o + 96); store(s31, o + 112)
      store(s40, o + 128); store(s41, o + 144); store(s50, o + 160); store(s51, o + 176)
      store(s60, o + 192); store(s61, o + 208); store(s70, o + 224); store(s71, o + 240)
    }
  }

  /// `scores16` four keys at a time (4 accumulators), for CPUs without AVX-512.
  @inline(__always) static func scores16Narrow(
    _ qt: UnsafePointer<Float>, _ kTile: UnsafePointer<Float>, numChunks: Int, into s: UnsafeMutablePointer<Float>
  ) {
    for g in 0..<4 {
      var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
      for c in 0..<numChunks {
        let qc = qt + c * 256, kc = kTile + c * 256 + g * 64
        for i in 0..<16 {
          let qv = load(qc + 16 * i)
          let k = kc + i
          s0.addProduct(SIMD16(repeating: k[0]), qv)
          s1.addProduct(SIMD16(repeating: k[16]), qv)
          s2.addProduct(SIMD16(repeating: k[32]), qv)
          s3.addProduct(SIMD16(repeating: k[48]), qv)
        }
      }
      let o = s + g * 64
      store(s0, o); store(s1, o + 16); store(s2, o + 32); store(s3, o + 48)
    }
  }

  /// `scores32` two keys at a time (4 accumulators), for CPUs without AVX-512.
  @inline(__always) static func scores32Narrow(
    _ qt: UnsafePointer<Float>, _ kTile: UnsafePointer<Float>, numChunks: Int, into s: UnsafeMutablePointer<Float>
  ) {
    for g in 0..<8 {
      var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), b0 = SIMD16<Float>(), b1 = SIMD16<Float>()
      for c in 0..<numChunks {
        let qc = qt + c * 512, kc = kTile + c * 256 + g * 32
        for i in 0..<16 {
          let q0 = load(qc + 32 * i), q1 = load(qc + 32 * i + 16)
          let k = kc + i
          let k0 = SIMD16<Float>(repeating: k[0]), k1 = SIMD16<Float>(repeating: k[16])
          a0.addProduct(k0, q0); a1.addProduct(k0, q1); b0.addProduct(k1, q0); b1.addProduct(k1, q1)
        }
      }
      let o = s + g * 64
      store(a0, o); store(a1, o + 16); store(b0, o + 32); store(b1, o + 48)
    }
  }

  /// o[r, :] = α[r] · o[r, :] + Σ_k p[k, r] · v_k for the tile's rows, in blocks of 4 rows by up to 64 columns
  /// (`wide`) or by 16.
  /// - Parameters: stride: lanes of the tile, the row length of p.
  @inline(__always) static func accumulateValues(
    scratch: TileScratch, stride: Int, numRows: Int, numKeys: Int, headDim: Int, wide: Bool
  ) {
    let dp = (headDim + 15) & ~15
    var r = 0
    while r < numRows {
      var col = 0
      while wide && col + 64 <= headDim {
        values4x4(scratch: scratch, stride: stride, row: r, col: col, ldo: dp, numKeys: numKeys)
        col += 64
      }
      while col + 16 <= headDim {
        values4x1(scratch: scratch, stride: stride, row: r, col: col, ldo: dp, numKeys: numKeys)
        col += 16
      }
      if col < headDim { valuesScalar(
          scratch: scratch, stride: stride, row: r, cols: col..<headDim, ldo: dp, numKeys: numKeys) }
      r += 4
    }
  }

  /// Rows row..<row+4, columns col..<col+64: 16 accumulators; per key 4 value loads and 4 broadcasts.
  @inline(__always) static func values4x4(
    scratch: TileScratch, stride: Int, row: Int, col: Int, ldo: Int, numKeys: Int
  ) {
    let o0 = scratch.o + row * ldo + col, o1 = o0 + ldo, o2 = o1 + ldo, o3 = o2 + ldo
    let a = scratch.alpha + row
    let a0 = SIMD16<Float>(repeating: a[0]), a1 = SIMD16<Float>(repeating: a[1])
    let a2 = SIMD16<Float>(repeating: a[2]), a3 = SIMD16<Float>(repeating: a[3])
    var c00 = load(o0) * a0, c01 = load(o0 + 16) * a0, c02 = load(o0 + 32) * a0, c03 = load(o0 + 48) * a0
    var c10 = load(o1) * a1, c11 = load(o1 + 16) * a1, c12 = load(o1 + 32) * a1, c13 = load(o1 + 48) * a1
    var c20 = load(o2) * a2, c21 = load(o2 + 16) * a2, c22 = load(o2 + 32) * a2, c23 = load(o2 + 48) * a2
    var c30 = load(o3) * a3, c31 = load(o3 + 16) * a3, c32 = load(o3 + 32) * a3, c33 = load(o3 + 48) * a3
    for k in 0..<numKeys {
      let v = scratch.vRows[k] + col
      let v0 = load(v), v1 = load(v + 16), v2 = load(v + 32), v3 = load(v + 48)
      let p = scratch.p + stride * k + row
      let p0 = SIMD16<Float>(repeating: p[0]), p1 = SIMD16<Float>(repeating: p[1])
      let p2 = SIMD16<Float>(repeating: p[2]), p3 = SIMD16<Float>(repeating: p[3])
      c00.addProduct(p0, v0); c01.addProduct(p0, v1); c02.addProduct(p0, v2); c03.addProduct(p0, v3)
      c10.addProduct(p1, v0); c11.addProduct(p1, v1); c12.addProduct(p1, v2); c13.addProduct(p1, v3)
      c20.addProduct(p2, v0); c21.addProduct(p2, v1); c22.addProduct(p2, v2); c23.addProduct(p2, v3)
      c30.addProduct(p3, v0); c31.addProduct(p3, v1); c32.addProduct(p3, v2); c33.addProduct(p3, v3)
    }
    store(c00, o0); store(c01, o0 + 16); store(c02, o0 + 32); store(c03, o0 + 48)
    store(c10, o1); store(c11, o1 + 16); store(c12, o1 + 32); store(c13, o1 + 48)
    store(c20, o2); store(c21, o2 + 16); store(c22, o2 + 32); store(c23, o2 + 48)
    store(c30, o3); store(c31, o3 + 16); store(c32, o3 + 32); store(c33, o3 + 48)
  }

  /// Rows row..<row+4, columns col..<col+16.
  @inline(__always) static func values4x1(
    scratch: TileScratch, stride: Int, row: Int, col: Int, ldo: Int, numKeys: Int
  ) {
    let o0 = scratch.o + row * ldo + col, o1 = o0 + ldo, o2 = o1 + ldo, o3 = o2 + ldo
    let a = scratch.alpha + row
    var c0 = load(o0) * a[0], c1 = load(o1) * a[1], c2 = load(o2) * a[2], c3 = load(o3) * a[3]
    for k in 0..<numKeys {
      let v = load(scratch.vRows[k] + col)
      let p = scratch.p + stride * k + row
      c0.addProduct(SIMD16(repeating: p[0]), v)
      c1.addProduct(SIMD16(repeating: p[1]), v)
      c2.addProduct(SIMD16(repeating: p[2]), v)
      c3.addProduct(SIMD16(repeating: p[3]), v)
    }
    store(c0, o0); store(c1, o1); store(c2, o2); store(c3, o3)
  }

  /// Rows row..<row+4, the columns past the last whole vector (headDim not a multiple of 16).
  @inline(__always) static func valuesScalar(
    scratch: TileScratch, stride: Int, row: Int, cols: Range<Int>, ldo: Int, numKeys: Int
  ) {
    for r in row..<(row + 4) {
      let o = scratch.o + r * ldo
      let alpha = scratch.alpha[r]
      for i in cols {
        var acc = o[i] * alpha
        for k in 0..<numKeys { acc += scratch.p[stride * k + r] * scratch.vRows[k][i] }
        o[i] = acc
      }
    }
  }

  /// dst[i] = src[i] · a over `count` elements.
  @inline(__always) static func scale(
    _ src: UnsafePointer<Float>, by a: Float, into dst: UnsafeMutablePointer<Float>, count: Int
  ) {
    var i = 0
    while i + 16 <= count {
      store(load(src + i) * a, dst + i)
      i += 16
    }
    while i < count {
      dst[i] = src[i] * a
      i += 1
    }
  }
}
