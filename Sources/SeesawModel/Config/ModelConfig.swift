import Foundation

/// The shape and hyper-parameters of a Llama-family model, read once from `config.json` or GGUF metadata.
public struct ModelConfig: Sendable, Equatable, Codable {
  /// Model families the forward pass implements. Mistral is Llama plus an optional sliding window; Qwen2 adds
  /// biases to q/k/v.
  public enum Architecture: String, Sendable, Codable {
    case llama, mistral, qwen2
  }

  /// How rotary frequencies are rescaled for long contexts.
  public enum RopeScaling: Sendable, Equatable, Codable {
    /// Positions divided by `factor` (rope_type "linear").
    case linear(factor: Double)
    /// Llama 3.1's frequency-dependent scaling (rope_type "llama3").
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
  }

  public var architecture: Architecture
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var numLayers: Int
  public var numHeads: Int
  public var numKVHeads: Int
  public var headDim: Int
  public var vocabSize: Int
  public var rmsNormEps: Float
  public var ropeTheta: Double
  public var ropeScaling: RopeScaling?
  public var tieWordEmbeddings: Bool
  public var maxPositionEmbeddings: Int
  /// q/k/v projections carry biases (Qwen2; Llama's `attention_bias`).
  public var attentionBias: Bool
  /// Keys further back than this are not attended (Mistral); nil for full attention.
  public var slidingWindow: Int?
  public var bosTokenID: Int?
  public var eosTokenIDs: [Int]

  public init(
    architecture: Architecture, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int,
    numKVHeads: Int, headDim: Int? = nil, vocabSize: Int, rmsNormEps: Float = 1e-6, ropeTheta: Double = 10000,
    ropeScaling: RopeScaling? = nil, tieWordEmbeddings: Bool = false, maxPositionEmbeddings: Int = 4096,
    attentionBias: Bool = false, slidingWindow: Int? = nil, bosTokenID: Int? = nil, eosTokenIDs: [Int] = []
  ) {
    self.architecture = architecture
    self.hiddenSize = hiddenSize
    self.intermediateSize = intermediateSize
    self.numLayers = numLayers
    self.numHeads = numHeads
    self.numKVHeads = numKVHeads
    self.headDim = headDim ?? hiddenSize / max(numHeads, 1)
    self.vocabSize = vocabSize
    self.rmsNormEps = rmsNormEps
    self.ropeTheta = ropeTheta
    self.ropeScaling = ropeScaling
    self.tieWordEmbeddings = tieWordEmbeddings
    self.maxPositionEmbeddings = maxPositionEmbeddings
    self.attentionBias = attentionBias
    self.slidingWindow = slidingWindow
    self.bosTokenID = bosTokenID
    self.eosTokenIDs = eosTokenIDs
  }

  /// Width of the concatenated query heads.
  public var qDim: Int { numHeads * headDim }
  /// Width of the concatenated key (or value) heads.
  public var kvDim: Int { numKVHeads * headDim }
  /// Parameters of one decoder layer's linear maps (q, k, v, o, gate, up, down).
  public var linearParamsPerLayer: Int {
    hiddenSize * (qDim + 2 * kvDim) + qDim * hiddenSize + 3 * hiddenSize * intermediateSize
  }

  /// Checks the invariants the forward pass relies on; `path` names the source in errors.
  public func validate(path: String) throws {
    func check(_ ok: Bool, _ field: String, _ reason: String) throws {
      if !ok { throw ModelFileError.invalidConfig(path: path, field: field, reason: reason) }
    }
    try check(hiddenSize > 0, "hidden_size", "\(hiddenSize) must be positive")
    try check(intermediateSize > 0, "intermediate_size", "\(intermediateSize) must be positive")
    try check(numLayers > 0, "num_hidden_layers", "\(numLayers) must be positive")
    try check(numHeads > 0, "num_attention_heads", "\(numHeads) must be positive")
    try check(
      numKVHeads > 0 && numHeads % numKVHeads == 0, "num_key_value_heads",
      "\(numKVHeads) must divide num_attention_heads \(numHeads)")
    try check(headDim > 0 && headDim % 2 == 0, "head_dim", "\(headDim) must be positive and even")
    try check(vocabSize > 0, "vocab_size", "\(vocabSize) must be positive")
    try check(rmsNormEps > 0, "rms_norm_eps", "\(rmsNormEps) must be positive")
    try check(ropeTheta > 0, "rope_theta", "\(ropeTheta) must be positive")
    if let w = slidingWindow { try check(w > 0, "sliding_window", "\(w) must be positive") }
  }
}
