import CSeesawKernels

/// Dequantization of ggml block formats and 16-bit floats to f32, one row (or any whole number of blocks) at a time.
///
/// The formulas follow ggml's reference `dequantize_row_*` functions; the layout of each block is given in
/// `DType.bytesPerBlock`. All reads are little-endian and unaligned-safe.
public enum Dequantize {
  /// Converts `count` elements of `dtype` starting at `src` into `dst[0..<count]`.
  /// - Precondition: `count` is a multiple of `dtype.blockSize`.
  public static func row(
    _ dtype: DType, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int
  ) {
    precondition(count % dtype.blockSize == 0, "row length \(count) is not a multiple of \(dtype) blocks")
    let numBlocks = count / dtype.blockSize
    switch dtype {
    case .f32:
      dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
    // Everything else goes through AVX-512 C kernels (scalar C on other CPUs), bit-identical to `referenceRow`:
    // Swift's generic SIMD integer-to-float conversions compile to out-of-line calls, 4x slower than the scalar
    // loop they replace.
    case .f16:
      seesaw_dequantize_f16(src, dst, numBlocks)
    case .bf16:
      seesaw_dequantize_bf16(src, dst, numBlocks)
    case .q8_0:
      seesaw_dequantize_q8_0(src, dst, numBlocks)
    case .q4_0:
      seesaw_dequantize_q4_0(src, dst, numBlocks)
    case .q4_1:
      seesaw_dequantize_q4_1(src, dst, numBlocks)
    case .q4_K:
      seesaw_dequantize_q4_K(src, dst, numBlocks)
    case .q6_K:
      seesaw_dequantize_q6_K(src, dst, numBlocks)
    }
  }

  /// `row` in plain Swift, one element at a time: the specification the C kernels are tested against bit for bit,
  /// and the baseline `seesaw bench dequantize` measures them against.
  public static func referenceRow(
    _ dtype: DType, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int
  ) {
    precondition(count % dtype.blockSize == 0, "row length \(count) is not a multiple of \(dtype) blocks")
    let numBlocks = count / dtype.blockSize
    switch dtype {
    case .f32:
      for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    case .f16:
      for i in 0..<count { dst[i] = half(src, 2 * i) }
    case .bf16:
      for i in 0..<count { dst[i] = bfloat(src, 2 * i) }
    case .q8_0:
      for b in 0..<numBlocks { q8_0(src + b * 34, dst + b * 32) }
    case .q4_0:
      for b in 0..<numBlocks { q4_0(src + b * 18, dst + b * 32) }
    case .q4_1:
      for b in 0..<numBlocks { q4_1(src + b * 20, dst + b * 32) }
    case .q4_K:
      for b in 0..<numBlocks { q4_K(src + b * 144, dst + b * 256) }
    case .q6_K:
      for b in 0..<numBlocks { q6_K(src + b * 210, dst + b * 256) }
    }
  }

  /// IEEE half at byte `offset`.
  @inline(__always) public static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
  }

  /// bfloat16 at byte `offset`: the top 16 bits of an f32.
  @inline(__always) public static func bfloat(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) << 16)
  }

  @inline(__always) static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    p.load(fromByteOffset: offset, as: UInt8.self)
  }

  // Q8_0: { f16 d; int8 q[32] }, x = d * q.
  @inline(__always) static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(p, 0)
    for j in 0..<32 { y[j] = d * Float(Int8(bitPattern: byte(p, 2 + j))) }
  }

  // Q4_0: { f16 d; u8 q[16] }, low nibbles are elements 0..15, high nibbles 16..31, x = d * (q - 8).
  @inline(__always) static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(p, 0)
    for j in 0..<16 {
      let q = byte(p, 2 + j)
      y[j] = d * Float(Int(q & 0xF) - 8)
      y[j + 16] = d * Float(Int(q >> 4) - 8)
    }
  }

  // Q4_1: { f16 d; f16 m; u8 q[16] }, x = d * q + m.
  @inline(__always) static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(p, 0)
    let m = half(p, 2)
    for j in 0..<16 {
      let q = byte(p, 4 + j)
      y[j] = d * Float(q & 0xF) + m
      y[j + 16] = d * Float(q >> 4) + m
    }
  }

  /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K block's 12 packed bytes (ggml's get_scale_min_k4).
  @inline(__always) static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
    if j < 4 {
      return (Float(byte(q, j) & 63), Float(byte(q, j + 4) & 63))
    }
    let sc = (byte(q, j + 4) & 0xF) | ((byte(q, j - 4) >> 6) << 4)
    let m = (byte(q, j + 4) >> 4) | ((byte(q, j) >> 6) << 4)
    return (Float(sc), Float(m))
  }

  // Q4_K: { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }: 8 sub-blocks of 32, each with a 6-bit scale and min;
  // every 32 bytes of qs hold two sub-blocks (low nibbles, then high nibbles).
  @inline(__always) static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(p, 0)
    let dmin = half(p, 2)
    let scales = p + 4
    let qs = p + 16
    for g in 0..<4 {
      let (sc1, m1) = scaleMinK4(2 * g, scales)
      let (sc2, m2) = scaleMinK4(2 * g + 1, scales)
      let d1 = d * sc1, min1 = dmin * m1
      let d2 = d * sc2, min2 = dmin * m2
      let q = qs + 32 * g
      let out = y + 64 * g
      for l in 0..<32 {
        let v = byte(q, l)
        out[l] = d1 * Float(v & 0xF) - min1
        out[l + 32] = d2 * Float(v >> 4) - min2
      }
    }
  }

  // Q6_K: { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }: 6-bit values = 4 low bits from ql, 2 high bits from qh,
  // minus 32; 16 sub-blocks of 16 elements with int8 scales.
  @inline(__always) static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(p, 208)
    for half128 in 0..<2 {
      let ql = p + 64 * half128
      let qh = p + 128 + 32 * half128
      let sc = p + 192 + 8 * half128
      let out = y + 128 * half128
      for l in 0..<32 {
        let s = l / 16
        let h = byte(qh, l)
        let q1 = Int((byte(ql, l) & 0xF) | (((h >> 0) & 3) << 4)) - 32
        let q2 = Int((byte(ql, l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32
        let q3 = Int((byte(ql, l) >> 4) | (((h >> 4) & 3) << 4)) - 32
        let q4 = Int((byte(ql, l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
        out[l] = d * Float(Int8(bitPattern: byte(sc, s))) * Float(q1)
        out[l + 32] = d * Float(Int8(bitPattern: byte(sc, s + 2))) * Float(q2)
        out[l + 64] = d * Float(Int8(bitPattern: byte(sc, s + 4))) * Float(q3)
        out[l + 96] = d * Float(Int8(bitPattern: byte(sc, s + 6))) * Float(q4)
      }
    }
  }
}
