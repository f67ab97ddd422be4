import Foundation
import SeesawTensor

/// Rotary position embedding frequencies, with the rescalings of `ModelConfig.RopeScaling`, computed as
/// transformers computes them (f32 inverse frequencies, angles `position * invFreq` in f32).
public struct RotaryEmbedding: Sendable {
  /// [headDim / 2] inverse frequencies.
  public let invFreq: [Float]

  /// - Parameter freqFactors: llama.cpp's `rope_freqs.weight` (Llama 3 GGUFs store their scaling this way):
  ///   each frequency is divided by its factor.
  public init(config: ModelConfig, freqFactors: [Float]? = nil) {
    let dim = config.headDim
    var inv = (0..<(dim / 2)).map { i in Float(1 / pow(config.ropeTheta, Double(2 * i) / Double(dim))) }
    switch config.ropeScaling {
    case nil: break
    case .linear(let factor):
      inv = inv.map { $0 / Float(factor) }
    case .llama3(let factor, let low, let high, let original):
      let lowFreqWavelen = Double(original) / low
      let highFreqWavelen = Double(original) / high
      inv = inv.map { f in
        let wavelen = 2 * Double.pi / Double(f)
        if wavelen < highFreqWavelen { return f }
        if wavelen > lowFreqWavelen { return f / Float(factor) }
        let smooth = Float((Double(original) / wavelen - low) / (high - low))
        return (1 - smooth) * f / Float(factor) + smooth * f
      }
    }
    if let freqFactors, freqFactors.count == inv.count {
      inv = zip(inv, freqFactors).map { $0 / $1 }
    }
    invFreq = inv
  }

  /// cos and sin of every token's angles: two [numTokens, headDim / 2] tensors.
  public func angles(positions: [Int32]) -> (cos: Tensor, sin: Tensor) {
    let half = invFreq.count
    let cos = Tensor(zeros: [positions.count, half])
    let sin = Tensor(zeros: [positions.count, half])
    for (t, p) in positions.enumerated() {
      for i in 0..<half {
        let angle = Double(Float(p) * invFreq[i])
        cos.data[t * half + i] = Float(Foundation.cos(angle))
        sin.data[t * half + i] = Float(Foundation.sin(angle))
      }
    }
    return (cos, sin)
  }
}
