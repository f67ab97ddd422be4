import Foundation

extension ModelConfig {
  /// Reads a Hugging Face `config.json` (Llama, Mistral, Qwen2). Understands both the transformers 4 keys
  /// (`rope_theta`, `rope_scaling`) and transformers 5's `rope_parameters`.
  public init(huggingFaceConfigAt path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ModelFileError.cannotOpen(path: path, reason: "no such file")
    }
    guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw ModelFileError.invalidConfig(path: path, field: "(root)", reason: "not a JSON object")
    }
    func int(_ key: String) throws -> Int {
      guard let v = (json[key] as? NSNumber)?.intValue else {
        throw ModelFileError.invalidConfig(path: path, field: key, reason: "missing or not a number")
      }
      return v
    }
    func optionalInt(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }

    let modelType = json["model_type"] as? String ?? "llama"
    guard let architecture = Architecture(rawValue: modelType) else {
      throw ModelFileError.unsupportedArchitecture(path: path, architecture: modelType)
    }
    let numHeads = try int("num_attention_heads")
    let rope = json["rope_parameters"] as? [String: Any] ?? json["rope_scaling"] as? [String: Any]
    let ropeTheta =
      (json["rope_theta"] as? NSNumber)?.doubleValue ?? (rope?["rope_theta"] as? NSNumber)?.doubleValue ?? 10000
    var ropeScaling: RopeScaling? = nil
    if let rope {
      let type = rope["rope_type"] as? String ?? rope["type"] as? String ?? "default"
      func number(_ key: String) throws -> Double {
        guard let v = (rope[key] as? NSNumber)?.doubleValue else {
          throw ModelFileError.invalidConfig(path: path, field: "rope_scaling.\(key)", reason: "missing")
        }
        return v
      }
      switch type {
      case "default": break
      case "linear": ropeScaling = .linear(factor: try number("factor"))
      case "llama3":
        ropeScaling = .llama3(
          factor: try number("factor"), lowFreqFactor: try number("low_freq_factor"),
          highFreqFactor: try number("high_freq_factor"),
          originalMaxPositions: Int(try number("original_max_position_embeddings")))
      default:
        throw ModelFileError.invalidConfig(
          path: path, field: "rope_scaling.rope_type", reason: "'\(type)' is not supported (default, linear, llama3)")
      }
    }
    var eos: [Int] = []
    if let n = json["eos_token_id"] as? NSNumber { eos = [n.intValue] }
    if let list = json["eos_token_id"] as? [NSNumber] { eos = list.map(\.intValue) }
    let usesWindow = architecture == .mistral || (json["use_sliding_window"] as? Bool ?? false)

    self.init(
      architecture: architecture,
      hiddenSize: try int("hidden_size"),
      intermediateSize: try int("intermediate_size"),
      numLayers: try int("num_hidden_layers"),
      numHeads: numHeads,
      numKVHeads: optionalInt("num_key_value_heads") ?? numHeads,
      headDim: optionalInt("head_dim"),
      vocabSize: try int("vocab_size"),
      rmsNormEps: (json["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-6,
      ropeTheta: ropeTheta,
      ropeScaling: ropeScaling,
      tieWordEmbeddings: json["tie_word_embeddings"] as? Bool ?? false,
      maxPositionEmbeddings: optionalInt("max_position_embeddings") ?? 4096,
      attentionBias: architecture == .qwen2 || (json["attention_bias"] as? Bool ?? false),
      slidingWindow: usesWindow ? optionalInt("sliding_window") : nil,
      bosTokenID: optionalInt("bos_token_id"),
      eosTokenIDs: eos)
    try validate(path: path)
  }
}
