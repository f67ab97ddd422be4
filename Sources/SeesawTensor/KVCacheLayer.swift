/// How a paged KV cache stores its values (`--kv-cache-dtype`, like vLLM's).
///
/// f32, the default, keeps K and V exactly as computed, so every golden of the default path holds. bf16 rounds them
/// to bfloat16 as they are written (to nearest, ties to even) and widens them back to f32 as attention reads them:
/// decode attention, which is bound by the bytes it reads, reads half as many, and a GiB holds twice the sequences.
/// The computation itself stays f32.
public enum KVCacheDType: String, Sendable, CaseIterable {
  case f32
  case bf16

  /// Bytes of one stored value.
  public var byteCount: Int {
    switch self {
    case .f32: 4
    case .bf16: 2
    }
  }
}

/// One layer's keys and values in a paged cache: each [numSlots, kvDim] values of `dtype`, row-major, slot-major
/// (a slot holds one token's KV heads contiguously).
public struct KVCacheLayer: @unchecked Sendable {
  public let keys: UnsafeMutableRawPointer
  public let values: UnsafeMutableRawPointer
  public let dtype: KVCacheDType

  public init(keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, dtype: KVCacheDType) {
    self.keys = keys
    self.values = values
    self.dtype = dtype
  }

  /// An f32 layer over two tensors [numSlots, kvDim] (which the caller keeps alive).
  public init(keys: Tensor, values: Tensor) {
    self.init(keys: UnsafeMutableRawPointer(keys.data), values: UnsafeMutableRawPointer(values.data), dtype: .f32)
  }
}

/// Conversions between f32 rows and stored bf16 rows, 16 values at a time.
public enum KVConvert {
  /// dst[i] = bf16(src[i]) over `count` values, rounded as `BFloat16.bits` rounds (NaN stays a quiet NaN).
  @inline(__always) public static func storeBF16(
    _ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, count: Int
  ) {
    var i = 0
    while i + 16 <= count {
      let b = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt32>.self)
      var r = (b &+ 0x7FFF &+ ((b &>> 16) & 1)) &>> 16
      let x = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self)
      r.replace(with: (b &>> 16) | 0x0040, where: x .!= x)
      (dst + 2 * i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: r), as: SIMD16<UInt16>.self)
      i += 16
    }
    while i < count {
      (dst + 2 * i).storeBytes(of: BFloat16.bits(src[i]), as: UInt16.self)
      i += 1
    }
  }

  /// The 16 f32 values of 16 stored bf16 values at `p`.
  @inline(__always) public static func loadBF16(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    let wide = SIMD16<UInt32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD16<UInt16>.self)) &<< 16
    return unsafeBitCast(wide, to: SIMD16<Float>.self)
  }

  /// dst[i] = f32(src[i]) over `count` stored bf16 values.
  @inline(__always) public static func loadBF16(
    _ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int
  ) {
    var i = 0
    while i + 16 <= count {
      UnsafeMutableRawPointer(dst + i).storeBytes(of: loadBF16(src + 2 * i), as: SIMD16<Float>.self)
      i += 16
    }
    while i < count {
      dst[i] = Dequantize.bfloat(src, 2 * i)
      i += 1
    }
  }
}
