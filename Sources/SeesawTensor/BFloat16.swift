/// f32 to bfloat16 (the top 16 bits of an f32) the way PyTorch's `.to(torch.bfloat16)` and gguf-py round: to
/// nearest, ties to even; NaN stays a quiet NaN. `Dequantize.bfloat` reads the result back.
public enum BFloat16 {
  /// The bfloat16 bit pattern nearest to `x`.
  @inline(__always) public static func bits(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
    // Adding 0x7FFF rounds halfway cases down, 0x8000 up: the lowest kept bit picks the even one.
    return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
  }

  /// `x` rounded to the nearest bfloat16 value, as an f32.
  @inline(__always) public static func round(_ x: Float) -> Float {
    Float(bitPattern: UInt32(bits(x)) << 16)
  }
}
