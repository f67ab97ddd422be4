import Foundation

/// Row-wise normalisation and element-wise activation kernels.
public enum Elementwise {
  /// RMSNorm as Llama computes it in f32: y = x / sqrt(mean(x²) + eps) * weight.
  /// - Parameters: x [rows, dim], weight [dim], y [rows, dim] (may alias x).
  public static func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    rows: Int, dim: Int, eps: Float
  ) {
    for r in 0..<rows {
      let xr = x + r * dim
      let yr = y + r * dim
      let meanSquare = Matmul.dot(xr, xr, dim) / Float(dim)
      let scale = 1 / (meanSquare + eps).squareRoot()
      for i in 0..<dim { yr[i] = (xr[i] * scale) * weight[i] }
    }
  }

  /// SwiGLU's gate: out = silu(gate) * up, silu(g) = g / (1 + e^-g), 16 lanes at a time with e^-g = 2^(-g·log₂e)
  /// from `VectorMath.exp2` (relative error ~2e-7; expf's is ~6e-8). perf of SmolLM2's prefill: 8% of the samples in
  /// the scalar loop with expf, 1.5% in this one. -g·log₂e is capped at 126: beyond it silu(g) is below 1e-36 either
  /// way.
  /// - Parameters: gate, up, out: [count] (out may alias gate).
  public static func siluMul(
    _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
  ) {
    let minusLog2e = SIMD16<Float>(repeating: -1.442_695_040_888_963_4)
    let cap = SIMD16<Float>(repeating: 126)
    var i = 0
    while i + 16 <= count {
      let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
      let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
      var x = g * minusLog2e
      x.replace(with: cap, where: x .> cap)
      let silu = g / (1 + VectorMath.exp2(x))
      UnsafeMutableRawPointer(out + i).storeBytes(of: silu * u, as: SIMD16<Float>.self)
      i += 16
    }
    for i in i..<count {
      let g = gate[i]
      out[i] = g / (1 + expf(-g)) * up[i]
    }
  }

  /// x += y over `count` elements.
  public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
      let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
      let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
      UnsafeMutableRawPointer(x + i).storeBytes(of: a + b, as: SIMD16<Float>.self)
      i += 16
    }
    while i < count {
      x[i] += y[i]
      i += 1
    }
  }

  /// Rotary embedding in the "rotate half" layout of Hugging Face Llama: within each head, element i pairs with
  /// element i + headDim/2. `cos`/`sin` hold [numTokens, headDim/2] angles' cosines and sines.
  /// - Parameters: x [numTokens, numHeads, headDim], rotated in place.
  public static func rope(
    _ x: UnsafeMutablePointer<Float>, numTokens: Int, numHeads: Int, headDim: Int,
    cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
  ) {
    let half = headDim / 2
    for t in 0..<numTokens {
      let c = cos + t * half
      let s = sin + t * half
      for h in 0..<numHeads {
        let v = x + (t * numHeads + h) * headDim
        for i in 0..<half {
          let x1 = v[i]
          let x2 = v[i + half]
          v[i] = x1 * c[i] - x2 * s[i]
          v[i + half] = x2 * c[i] + x1 * s[i]
        }
      }
    }
  }

  /// Index of the largest value (first on ties), as greedy sampling needs.
  public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for i in 1..<max(count, 1) where x[i] > x[best] { best = i }
    return best
  }
}
