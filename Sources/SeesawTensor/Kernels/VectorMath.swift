/// Vector forms of the math functions the kernels need, 16 lanes at a time (one AVX-512 register).
enum VectorMath {
  /// 2^x, relative error ~2e-7; x ≤ -127 (and -inf) gives exactly 0. x must stay below 127.5 (callers clamp).
  ///
  /// 2^x = 2^n · 2^f with n = round(x), f ∈ [-½, ½]: adding 1.5·2²³ rounds x to n and leaves n in the low
  /// mantissa bits, from which the exponent field of 2^n is built; 2^f is Cephes' exp2f polynomial.
  @inline(__always) static func exp2(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let x = x.replacing(with: -127, where: x .< -127)
    let shifter = SIMD16<Float>(repeating: 12_582_912)
    let t = x + shifter
    let f = x - (t - shifter)
    var p = SIMD16<Float>(repeating: 1.535_336_188_319_500e-4)
    p = SIMD16(repeating: 1.339_887_440_266_574e-3).addingProduct(p, f)
    p = SIMD16(repeating: 9.618_437_357_674_640e-3).addingProduct(p, f)
    p = SIMD16(repeating: 5.550_332_471_162_809e-2).addingProduct(p, f)
    p = SIMD16(repeating: 2.402_264_791_363_012e-1).addingProduct(p, f)
    p = SIMD16(repeating: 6.931_472_028_550_421e-1).addingProduct(p, f)
    p = SIMD16(repeating: 1).addingProduct(p, f)
    // (n + 127) mod 512 into bits 23...31: n = -127 gives the zero exponent, hence 0.
    let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: SIMD16<Float>.self)
  }
}
